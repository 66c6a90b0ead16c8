using LvsDirect.Formatting;
using Xunit;

namespace LvsDirect.Tests.Output;

/// <summary>The text the views hand PowerShell's formatter: never longer than asked, words never split.</summary>
public sealed class TextLayoutTests
{
    [Fact]
    public void Lines_BreakBetweenWords_NeverInsideAnAddress()
    {
        var lines = TextLayout.Lines("The VIP 203.0.113.100 answers ARP requests on eth0 for 203.0.113.100 too.", 28);

        Assert.Equal(["The VIP 203.0.113.100", "answers ARP requests on eth0", "for 203.0.113.100 too."], lines);
    }

    [Fact]
    public void Lines_AWordLongerThanALine_IsBrokenAfterASlashOrDot()
    {
        var lines = TextLayout.Lines("/var/lib/lvsdirect/saved/arptables.rules", 20);

        Assert.Equal(["/var/lib/lvsdirect/", "saved/arptables.", "rules"], lines);
        Assert.All(lines, l => Assert.True(l.Length <= 20));
    }

    [Fact]
    public void Lines_KeepTheTextsOwnLineBreaks_AndAnEmptyTextIsOneEmptyLine()
    {
        Assert.Equal(["a b", "c"], TextLayout.Lines("a b\r\nc", 80));
        Assert.Equal([string.Empty], TextLayout.Lines(null, 80));
    }

    [Fact]
    public void Block_HangsTheContinuationUnderTheTextAfterThePrefix()
    {
        var block = TextLayout.Block("Set-ArpSuppression -VirtualIP 203.0.113.100 then Save-ArpSuppression", 8, 51, "Fix: ");

        Assert.Equal("        Fix: Set-ArpSuppression -VirtualIP\n             203.0.113.100 then Save-ArpSuppression", block);
        Assert.Equal(string.Empty, TextLayout.Block(" ", 8, 50));
    }

    [Fact]
    public void Row_PadsTheColumns_AndContinuesTheRestUnderItself()
    {
        var row = TextLayout.Row(41, ["Warning", "RcLocal"], [7, 20], "/etc/rc.d/rc.local and more");

        Assert.Equal("Warning RcLocal              /etc/rc.d/\n                             rc.local and\n                             more", row);
        Assert.Equal("Pass    VipPresent", TextLayout.Row(80, ["Pass", "VipPresent"], [7, 20], null));
    }

    [Fact]
    public void Width_WithoutATerminal_Is79_ForBlocksAndTables() =>
        Assert.Equal((79, 79), (TextLayout.Width(null), TextLayout.TableWidth(null)));
}

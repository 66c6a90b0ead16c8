using LvsDirect.Completers;
using Xunit;

namespace LvsDirect.Tests.Completers;

public class CompletionFilterTests
{
    private static readonly (string, string)[] Interfaces = [("lo", "loopback"), ("eth0", "first"), ("ETH1", "second"), ("eth0", "again")];

    [Fact]
    public void Filter_KeepsCandidatesStartingWithTheWord_IgnoringCase_InTheirOrder_WithoutDuplicates()
    {
        var results = CompletionFilter.Filter(Interfaces, "e").ToList();

        Assert.Equal(["eth0", "ETH1"], results.Select(r => r.CompletionText));
        Assert.Equal(["first", "second"], results.Select(r => r.ToolTip));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Filter_WithNothingTyped_OffersEveryCandidate(string? word)
    {
        Assert.Equal(["lo", "eth0", "ETH1"], CompletionFilter.Filter(Interfaces, word).Select(r => r.CompletionText));
    }

    [Fact]
    public void Filter_WithNoMatch_OffersNothing()
    {
        Assert.Empty(CompletionFilter.Filter(Interfaces, "wlan"));
    }

    [Theory]
    [InlineData("eth0", "eth0")]
    [InlineData("eth0.100", "eth0.100")]
    [InlineData("203.0.113.100", "203.0.113.100")]
    [InlineData("fe80::1%eth0", "fe80::1%eth0")]
    [InlineData("br-lan_2", "br-lan_2")]
    [InlineData("my if", "'my if'")]
    [InlineData("a$b", "'a$b'")]
    [InlineData("it's", "'it''s'")]
    [InlineData("x,y", "'x,y'")]
    [InlineData("@vlan", "'@vlan'")]
    [InlineData("#1", "'#1'")]
    [InlineData("-dash", "'-dash'")]
    public void Quote_LeavesPlainNamesBare_AndSingleQuotesAnythingPowerShellWouldParseDifferently(string value, string expected)
    {
        Assert.Equal(expected, CompletionFilter.Quote(value));
    }

    [Fact]
    public void Filter_AfterAnOpeningSingleQuote_MatchesPastTheQuote_AndClosesIt()
    {
        var result = Assert.Single(CompletionFilter.Filter(Interfaces, "'lo"));

        Assert.Equal("'lo'", result.CompletionText);
        Assert.Equal("lo", result.ListItemText);
    }

    [Fact]
    public void Filter_AfterAnOpeningDoubleQuote_KeepsDoubleQuotesUnlessTheValueNeedsSingleOnes()
    {
        Assert.Equal("\"lo\"", Assert.Single(CompletionFilter.Filter(Interfaces, "\"l")).CompletionText);
        Assert.Equal("'a$b'", Assert.Single(CompletionFilter.Filter([("a$b", "")], "\"a")).CompletionText);
    }

    [Fact]
    public void Filter_ListsTheRawValue_NotTheQuotedText()
    {
        var result = Assert.Single(CompletionFilter.Filter([("my if", "")], "my"));

        Assert.Equal("'my if'", result.CompletionText);
        Assert.Equal("my if", result.ListItemText);
    }
}

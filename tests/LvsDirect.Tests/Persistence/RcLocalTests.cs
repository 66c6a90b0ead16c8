using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Persistence;

public class RcLocalTests
{
    private static readonly ArptablesDialect Nft = new(ArptablesFlavor.Nft);

    private static readonly RcVip Vip =
        new(IPAddress.Parse("203.0.113.100"), 32, "eth0", "eth0:1", null, IPAddress.Parse("192.0.2.11"));

    private static IReadOnlyList<string> Block(params RcVip[] vips) => RcLocal.RenderBlock(Nft, vips);

    [Fact]
    public void Block_PutsSuppressionBeforeTheAddress_AndIsIdempotentToRun()
    {
        var block = Block(Vip);

        Assert.Equal(RcLocal.BeginMarker, block[0]);
        Assert.Equal(RcLocal.EndMarker, block[^1]);
        var firstRule = block.ToList().FindIndex(l => l.StartsWith("arptables -A"));
        var address = block.ToList().FindIndex(l => l.StartsWith("ip addr replace"));
        Assert.True(firstRule >= 0 && firstRule < address);
        Assert.Contains("arptables -D INPUT -d 203.0.113.100 -j DROP 2>/dev/null", block);
        Assert.Contains("arptables -A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11", block);
        Assert.Contains("ip addr replace 203.0.113.100/32 dev eth0 label eth0:1", block);
    }

    [Fact]
    public void Block_JfDialect_UsesInAndOutChains()
    {
        var block = RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Jf), [Vip]);

        Assert.Contains("arptables -A IN -d 203.0.113.100 -j DROP", block);
        Assert.Contains("arptables -A OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11", block);
    }

    [Fact]
    public void Block_InvalidLabel_IsRejectedBeforeAnythingIsWritten() =>
        Assert.Equal(LvsErrorKind.InvalidArgument, Assert.Throws<LvsException>(() => Block(Vip with { Label = "eth0:1;reboot" })).Kind);

    [Fact]
    public void Merge_NoFile_CreatesAShellScriptThatEndsInExit0()
    {
        var content = RcLocal.Merge(null, Block(Vip));

        Assert.StartsWith("#!/bin/sh\n", content);
        Assert.EndsWith("\nexit 0\n", content);
        Assert.Contains(RcLocal.BeginMarker, content);
    }

    [Fact]
    public void Merge_DebianFile_InsertsBeforeExit0AndKeepsEveryOtherLine()
    {
        var existing = "#!/bin/sh -e\n# rc.local\n\necho hello > /tmp/x\n  exit 3 inside a heredoc-like indent\n\nexit 0\n";

        var content = RcLocal.Merge(existing, Block(Vip));

        var lines = content.Split('\n');
        Assert.True(Array.IndexOf(lines, RcLocal.EndMarker) < Array.LastIndexOf(lines, "exit 0"));
        Assert.True(Array.IndexOf(lines, RcLocal.BeginMarker) > Array.IndexOf(lines, "  exit 3 inside a heredoc-like indent"));
        Assert.Equal(existing, RcLocal.Merge(content, []));
    }

    [Fact]
    public void Merge_NoExit_AppendsTheBlock()
    {
        var content = RcLocal.Merge("#!/bin/sh\ntouch /var/lock/subsys/local", Block(Vip));

        Assert.StartsWith("#!/bin/sh\ntouch /var/lock/subsys/local\n\n" + RcLocal.BeginMarker, content);
        Assert.EndsWith(RcLocal.EndMarker + "\n", content);
    }

    [Fact]
    public void Merge_ReExport_ReplacesTheBlockInPlace()
    {
        var first = RcLocal.Merge("#!/bin/sh\necho before\nexit 0\n", Block(Vip));
        var other = Vip with { Address = IPAddress.Parse("203.0.113.101"), Label = null };

        var second = RcLocal.Merge(first, Block(other));

        Assert.Single(second.Split('\n'), l => l == RcLocal.BeginMarker);
        Assert.DoesNotContain("203.0.113.100", second);
        Assert.Contains("ip addr replace 203.0.113.101/32 dev eth0", second);
        Assert.Equal(first.Replace("203.0.113.100", "203.0.113.101").Replace(" label eth0:1", string.Empty), second);
    }

    [Theory]
    [InlineData("#!/bin/sh\n" + RcLocal.BeginMarker + "\nip addr replace 203.0.113.1/32 dev eth0\nexit 0\n")]
    [InlineData("#!/bin/sh\n" + RcLocal.EndMarker + "\n")]
    [InlineData("#!/bin/sh\n" + RcLocal.BeginMarker + "\n" + RcLocal.EndMarker + "\n" + RcLocal.BeginMarker + "\n" + RcLocal.EndMarker + "\n")]
    public void Merge_DamagedBlock_IsAParseErrorNotAGuess(string existing) =>
        Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => RcLocal.Merge(existing, Block(Vip))).Kind);

    [Fact]
    public void DefaultPath_FollowsTheDistributionLayout()
    {
        var root = Directory.CreateTempSubdirectory("lvsdirect-root-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            Assert.Equal(Path.Combine(root, "etc", "rc.local"), RcLocal.DefaultPath(root));

            Directory.CreateDirectory(Path.Combine(root, "etc", "rc.d"));
            Assert.Equal(Path.Combine(root, "etc", "rc.d", "rc.local"), RcLocal.DefaultPath(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

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
    public void Block_MakesChainsAndJumps_ThenPerVipRules_ThenItsAddressOnlyIfTheyAreInPlace()
    {
        var block = Block(Vip).ToList();

        Assert.Equal(RcLocal.BeginMarker, block[0]);
        Assert.Equal(RcLocal.EndMarker, block[^1]);
        Assert.Equal(
            [
                "lvsdirect_chains=yes",
                "arptables -N LVSDIRECT-IN 2>/dev/null || true",
                "arptables -C INPUT -j LVSDIRECT-IN 2>/dev/null || arptables -I INPUT 1 -j LVSDIRECT-IN || lvsdirect_chains=no",
                "arptables -N LVSDIRECT-OUT 2>/dev/null || true",
                "arptables -C OUTPUT -j LVSDIRECT-OUT 2>/dev/null || arptables -I OUTPUT 1 -j LVSDIRECT-OUT || lvsdirect_chains=no",
                "lvsdirect_arp=$lvsdirect_chains",
                "arptables -C LVSDIRECT-IN -d 203.0.113.100 -j DROP 2>/dev/null || arptables -A LVSDIRECT-IN -d 203.0.113.100 -j DROP || lvsdirect_arp=no",
                "arptables -C LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11 2>/dev/null || arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11 || lvsdirect_arp=no",
                "[ \"$lvsdirect_arp\" = no ] || ip addr replace 203.0.113.100/32 dev eth0 label eth0:1 || echo 'LvsDirect: 203.0.113.100/32 could not be added to eth0' >&2",
                "[ \"$lvsdirect_arp\" = yes ] || echo 'LvsDirect: 203.0.113.100 is not added: its ARP suppression could not be put in place' >&2",
            ],
            block.Skip(4).SkipLast(1));
    }

    [Fact]
    public void Block_EveryCommandThatMayFind_ItsTargetThereOrGone_IsTestedOrCaught()
    {
        foreach (var dialect in new[] { Nft, new ArptablesDialect(ArptablesFlavor.Legacy), new ArptablesDialect(ArptablesFlavor.Jf) })
        {
            foreach (var line in RcLocal.RenderBlock(dialect, [Vip]).Where(l => !l.StartsWith('#') && !l.StartsWith("lvsdirect_") && !l.StartsWith("PATH=")))
            {
                // Under sh -e only the last command of an and-or list can stop the script; each of these ends in one that cannot fail.
                Assert.Matches(@"\|\| (true|lvsdirect_\w+=no|echo '[^']*' >&2)$", line);
            }
        }
    }

    [Fact]
    public void Block_JfDialect_JumpsFromInAndOut_AndDeletesBeforeAdding()
    {
        var block = RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Jf), [Vip]);

        Assert.Contains("arptables -D IN -j LVSDIRECT-IN 2>/dev/null || true", block);
        Assert.Contains("arptables -I IN 1 -j LVSDIRECT-IN || lvsdirect_chains=no", block);
        Assert.Contains("arptables -I OUT 1 -j LVSDIRECT-OUT || lvsdirect_chains=no", block);
        Assert.Contains("arptables -D LVSDIRECT-IN -d 203.0.113.100 -j DROP 2>/dev/null || true", block);
        Assert.Contains("arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11 || lvsdirect_arp=no", block);
    }

    [Fact]
    public void Block_InvalidLabel_IsRejectedBeforeAnythingIsWritten() =>
        Assert.Equal(LvsErrorKind.InvalidArgument, Assert.Throws<LvsException>(() => Block(Vip with { Label = "eth0:1;reboot" })).Kind);

    [Fact]
    public void Merge_NoFile_CreatesAShellScriptThatEndsInExit0_WhichTheNextMergeLeavesAsItIs()
    {
        var content = RcLocal.Merge(null, Block(Vip));

        Assert.StartsWith("#!/bin/sh\n" + RcLocal.BeginMarker + "\n", content);
        Assert.EndsWith("\nexit 0\n", content);
        Assert.Equal(content, RcLocal.Merge(content, Block(Vip)));
    }

    [Fact]
    public void Merge_DebianFile_PutsTheBlockRightAfterTheShebang_AndKeepsEveryOtherLineByteForByte()
    {
        var existing = "#!/bin/sh -e\n# rc.local\n\necho hello > /tmp/x\n  exit 3 inside a heredoc-like indent\n\nexit 0\n";

        var content = RcLocal.Merge(existing, Block(Vip));

        Assert.StartsWith("#!/bin/sh -e\n" + RcLocal.BeginMarker + "\n", content);
        Assert.EndsWith(RcLocal.EndMarker + "\n\n# rc.local\n\necho hello > /tmp/x\n  exit 3 inside a heredoc-like indent\n\nexit 0\n", content);
        Assert.Null(RcLocal.WhyBlockCannotRun(content, executable: true));
        Assert.Equal(existing, RcLocal.Merge(content, []));
        Assert.Equal(content, RcLocal.Merge(content, Block(Vip)));
    }

    [Fact]
    public void Merge_NoShebangNoExit_PutsTheBlockAtTheTop()
    {
        var content = RcLocal.Merge("touch /var/lock/subsys/local", Block(Vip));

        Assert.StartsWith(RcLocal.BeginMarker, content);
        Assert.EndsWith(RcLocal.EndMarker + "\n\ntouch /var/lock/subsys/local", content);
    }

    [Fact]
    public void Merge_BlockOfAnOlderVersionBeforeExit_IsMovedToTheTop()
    {
        var old = "#!/bin/sh -e\ncat <<EOF >/etc/motd\nhello\nEOF\n" + RcLocal.BeginMarker + "\narptables -A INPUT -d 203.0.113.100 -j DROP\n" + RcLocal.EndMarker + "\n\nexit 0 # done\n";

        var content = RcLocal.Merge(old, Block(Vip));

        Assert.StartsWith("#!/bin/sh -e\n" + RcLocal.BeginMarker + "\n", content);
        Assert.EndsWith(RcLocal.EndMarker + "\n\ncat <<EOF >/etc/motd\nhello\nEOF\nexit 0 # done\n", content);
        Assert.DoesNotContain("-A INPUT", content);
    }

    [Fact]
    public void Merge_CrlfFile_GetsACrlfBlock_AndIsReportedAsUnrunnable()
    {
        var existing = "#!/bin/sh -e\r\necho hi\r\nexit 0\r\n";

        var content = RcLocal.Merge(existing, Block(Vip));

        Assert.DoesNotContain(content.Split('\n').SkipLast(1), l => !l.EndsWith('\r'));
        Assert.Contains("\\r", RcLocal.WhyBlockCannotRun(content, executable: true));
        Assert.Equal(existing, RcLocal.Merge(content, []));
    }

    [Theory]
    [InlineData("#!/bin/sh\nexit 0\n{0}", true, "ends the script")]
    [InlineData("#!/bin/sh\nif true; then\n    exit 0\nfi\n{0}", true, "ends the script")]
    [InlineData("#!/bin/sh\ncat <<'END'\n{0}END\n", true, "here-document")]
    [InlineData("#!/bin/sh\nstart() {{\n{0}}}\n", true, "function")]
    [InlineData("#!/bin/sh\nexec /usr/local/bin/boot\n{0}", true, "replaces the shell")]
    [InlineData("#!/bin/sh\n{0}", false, "not executable")]
    [InlineData("{0}", true, "'#!'")]
    [InlineData("#!sh\n{0}", true, "absolute")]
    public void WhyBlockCannotRun_NamesLayoutsWhereTheBlockNeverRuns(string layout, bool executable, string reason)
    {
        var content = string.Format(layout, string.Join('\n', Block(Vip)) + "\n");

        Assert.Contains(reason, RcLocal.WhyBlockCannotRun(content, executable));
    }

    [Theory]
    [InlineData("#!/bin/sh -e\n{0}exit 0\n")]
    [InlineData("#!/bin/bash\nset -euo pipefail\ncat <<EOF >/tmp/x\nexit 0\nEOF\nf() {{\n  exit 1\n}}\n{0}exit 0 # comment\n")]
    public void WhyBlockCannotRun_IsNullWhereTheBlockRuns(string layout) =>
        Assert.Null(RcLocal.WhyBlockCannotRun(string.Format(layout, string.Join('\n', Block(Vip)) + "\n"), executable: true));

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

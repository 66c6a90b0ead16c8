using System.Diagnostics;
using System.Net;
using System.Text;
using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;
using Xunit;

namespace LvsDirect.Tests.Config;

/// <summary>One fixture per keepalived.conf(5) keyword (Fixtures/config/keepalived/kw), read as keepalived reads it.</summary>
public class KeepalivedKeywordTests
{
    private static (IReadOnlyList<LvsVirtualService> All, LvsConfigResult Direct) Read(string fixture, string? configId = null)
    {
        var path = ConfigFixture.PathOf("keepalived", "kw", fixture);
        var options = new LvsConfigOptions { ConfigId = configId };
        return (KeepalivedConfigParser.ParseFile(path, options), LvsConfigReader.Read(path, LvsConfigFormat.Keepalived, options));
    }

    private static IPAddress A(string text) => IPAddress.Parse(text);

    [Fact]
    public void LvsMethodAndLvsSched_AreTheCurrentNames()
    {
        var (all, direct) = Read("lvs_method.conf");

        var s = Assert.Single(all);
        Assert.Equal(LvsForwardingMethod.Direct, s.ForwardingMethod);
        Assert.Equal("rr", s.Scheduler);
        Assert.Equal("192.0.2.11:80", Assert.Single(Assert.Single(direct.Services).RealServers).ToString());
        Assert.Empty(direct.Warnings);
    }

    [Fact]
    public void LbKindAndLbAlgo_AreAliases()
    {
        var (all, _) = Read("lb_kind.conf");

        var s = Assert.Single(all);
        Assert.Equal(LvsForwardingMethod.Direct, s.ForwardingMethod);
        Assert.Equal("wlc", s.Scheduler);
        Assert.Equal(2, Assert.Single(s.RealServers).Weight);
    }

    [Fact]
    public void LowerCaseDr_IsRejectedLikeKeepalived_TheServiceRunsAsNatAndIsSkippedWithTheReason()
    {
        var (all, direct) = Read("lvs_method-case.conf");

        Assert.Equal(LvsForwardingMethod.Nat, Assert.Single(all).ForwardingMethod);
        Assert.Empty(direct.Services);
        var warning = Assert.Single(direct.Warnings);
        Assert.StartsWith("Skipped: NAT service 192.0.2.102:80 in ", warning);
        Assert.Contains("lvs_method-case.conf line 2", warning);
        Assert.Contains("lb_kind 'dr' (lvs_method-case.conf line 4) is rejected", warning);
        Assert.Contains("case-sensitively", warning);
    }

    [Fact]
    public void AnUnknownMethod_SkipsThatServiceOnly_WithOneWarning()
    {
        var (_, direct) = Read("lvs_method-unknown.conf");

        Assert.Equal(["tcp 192.0.2.104:80"], direct.Services.Select(s => s.ToString()));
        var warning = Assert.Single(direct.Warnings);
        Assert.StartsWith("Skipped: NAT service 192.0.2.103:80 in ", warning);
        Assert.Contains("'FNAT'", warning);
        Assert.Contains("full NAT", warning);
    }

    [Fact]
    public void AnUnknownMethodInline_IsAWarningNotAnError()
    {
        var warnings = new List<string>();
        var s = Assert.Single(KeepalivedConfigParser.Parse("virtual_server 192.0.2.1 80 {\n lb_kind XX\n}\n", "/nonexistent/k.conf", null, warnings));

        Assert.Equal(LvsForwardingMethod.Nat, s.ForwardingMethod);
        Assert.Contains("lb_kind 'XX' (k.conf line 2) is rejected", s.MethodNote);
    }

    [Fact]
    public void PerRealServerLvsMethod_DrInNatServiceIsDirect_TunInDrServiceIsNot()
    {
        var (all, direct) = Read("real_server-lvs_method.conf");

        Assert.Equal([LvsForwardingMethod.Nat, LvsForwardingMethod.Direct], all[0].RealServers.Select(r => r.ForwardingMethod));
        Assert.Equal([LvsForwardingMethod.Direct, LvsForwardingMethod.Tunnel], all[1].RealServers.Select(r => r.ForwardingMethod));

        Assert.Equal(["192.0.2.21:80"], direct.Services[0].RealServers.Select(r => r.ToString()));
        Assert.Equal(["192.0.2.22:80"], direct.Services[1].RealServers.Select(r => r.ToString()));
        Assert.All(direct.Services, s => Assert.Equal(LvsForwardingMethod.Direct, s.ForwardingMethod));
        Assert.Equal(2, direct.Warnings.Count);
        Assert.Contains(direct.Warnings, w => w.StartsWith("Skipped: real server(s) 10.0.0.21:8080 (NAT) of service 192.0.2.105:80", StringComparison.Ordinal));
        Assert.Contains(direct.Warnings, w => w.StartsWith("Skipped: real server(s) 198.51.100.22:80 (tunnel) of service 192.0.2.106:80", StringComparison.Ordinal));
    }

    [Fact]
    public void ARealServerBeforeLvsMethod_TakesTheServicesFinalMethod()
    {
        var (all, _) = Read("real_server-before-lvs_method.conf");

        Assert.Equal(LvsForwardingMethod.Direct, Assert.Single(Assert.Single(all).RealServers).ForwardingMethod);
    }

    [Fact]
    public void SorryServer_IsAMarkedRealServer_WithTheServicesMethodUnlessItsOwnSaysOtherwise()
    {
        var (all, direct) = Read("sorry_server.conf");

        var sorry = all[0].RealServers.Single(r => r.IsSorryServer);
        Assert.Equal("192.0.2.50:80", sorry.ToString());
        Assert.Equal(LvsForwardingMethod.Direct, sorry.ForwardingMethod);
        Assert.Equal(["192.0.2.24:80", "192.0.2.50:80"], direct.Services[0].RealServers.Select(r => r.ToString()));

        Assert.Equal(LvsForwardingMethod.Nat, all[1].RealServers.Single(r => r.IsSorryServer).ForwardingMethod);
        Assert.Equal(["192.0.2.25:80"], direct.Services[1].RealServers.Select(r => r.ToString()));
        Assert.Contains(direct.Warnings, w => w.Contains("10.0.0.50:8080 (sorry server, NAT)", StringComparison.Ordinal));
    }

    [Fact]
    public void VirtualServerGroup_ExpandsEveryRangeForm()
    {
        var (all, direct) = Read("virtual_server_group.conf");

        Assert.Equal(
            ["192.0.2.110:80", "192.0.2.111:80", "192.0.2.112:80",
             "198.51.100.1:80", "198.51.100.2:80", "198.51.100.3:80",
             "203.0.113.8:80", "203.0.113.9:80", "203.0.113.10:80", "203.0.113.11:80",
             "[2001:db8::1]:80", "[2001:db8::2]:80", "[2001:db8::3]:80",
             "[2001:db8::10]:80", "[2001:db8::11]:80",
             "192.0.2.120:8080", "fwmark 9"],
            all.Select(s => s.Endpoint()));
        Assert.All(all, s => Assert.Equal("RANGES", s.Name));
        Assert.Equal(16, direct.Services.Count);
        Assert.StartsWith("Skipped: firewall-mark service 9", Assert.Single(direct.Warnings));
    }

    [Theory]
    [InlineData("192.0.2.5-5 80", "must be greater", 2)]
    [InlineData("192.0.2.9-192.0.2.1 80", "not below its start", 2)]
    [InlineData("192.0.2.1/24 80", "host bits set", 2)]
    [InlineData("192.0.2.0/33 80", "prefix length", 2)]
    [InlineData("10.0.0.0/8 80", "more than 65536 addresses", 2)]
    [InlineData("192.0.2.1 80\n 2001:db8::1 80\n fwmark 1", "IPv4, IPv6 and a fwmark without family", 1)]
    public void VirtualServerGroup_RangesKeepalivedSkips_AreErrorsWithTheLine(string entry, string expected, int line)
    {
        var ex = Assert.Throws<LvsException>(() => KeepalivedConfigParser.Parse($"virtual_server_group G {{\n  {entry}\n}}\n", "/nonexistent/g.conf"));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains($"g.conf line {line}:", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void ConditionalLines_WithoutAConfigId_ReadTheNegatedOnesAndSayWhichIdTheyDependOn()
    {
        var warnings = new List<string>();
        var s = Assert.Single(KeepalivedConfigParser.ParseFile(ConfigFixture.PathOf("keepalived", "kw", "conditional.conf"), null, warnings));

        Assert.Equal(["192.0.2.42:80"], s.RealServers.Select(r => r.ToString()));
        var w = Assert.Single(warnings);
        Assert.Contains("conditional.conf line 5", w);
        Assert.Contains("-ConfigId main", w);
    }

    [Fact]
    public void ConditionalLines_WithTheConfigId_ReadThatDirectorsLines()
    {
        var (all, direct) = Read("conditional.conf", "main");

        Assert.Equal(["192.0.2.41:80"], Assert.Single(all).RealServers.Select(r => r.ToString()));
        Assert.Empty(direct.Warnings);
    }

    [Fact]
    public void Definitions_AreSubstituted_IncludingMultilineOnes()
    {
        var (all, direct) = Read("definitions.conf");

        var s = Assert.Single(all);
        Assert.Equal("192.0.2.140:80", s.Endpoint());
        Assert.Equal(["192.0.2.51:80", "192.0.2.52:80"], s.RealServers.Select(r => r.ToString()));
        Assert.Empty(direct.Warnings);
    }

    [Fact]
    public void AnUndefinedParameter_IsAnErrorThatSaysSo()
    {
        var ex = Assert.Throws<LvsException>(() => KeepalivedConfigParser.Parse("virtual_server $VIP 80 {\n}\n", "/nonexistent/k.conf"));

        Assert.Contains("k.conf line 1", ex.Message);
        Assert.Contains("no $NAME= line defines", ex.Message);
    }

    [Fact]
    public void ABackslashOutsideADefinition_IsReadAsKeepalivedReadsIt_WithAWarning()
    {
        var (all, direct) = Read("continuation.conf");

        Assert.Equal(["192.0.2.61:80"], Assert.Single(all).RealServers.Select(r => r.ToString()));
        var w = Assert.Single(direct.Warnings);
        Assert.Contains("continuation.conf line 2", w);
        Assert.Contains("only inside a $NAME= definition", w);
    }

    [Fact]
    public void Include_ExpandsBracesAndGlobs_AndWarnsForAGlobThatMatchesNothing()
    {
        var (all, direct) = Read("include.conf");

        Assert.Equal(["192.0.2.160:80", "192.0.2.161:53", "192.0.2.162:25"], all.Select(s => s.Endpoint()));
        Assert.EndsWith(Path.Combine("inc", "web.conf"), all[0].SourceFile);
        Assert.Contains("include.conf line 4", Assert.Single(direct.Warnings));
    }

    [Fact]
    public void AnIpv6Zone_IsKeptAsWritten()
    {
        var (all, _) = Read("zone.conf");

        var rs = Assert.Single(Assert.Single(all).RealServers);
        Assert.Equal("eth0", rs.Zone);
        Assert.Equal(0, rs.Address.ScopeId);
        Assert.Equal("[fe80::1%eth0]:80", rs.ToString());
    }

    [Fact]
    public void UnknownKeywords_AreWarnedAbout_KnownIrrelevantBlocksAreNot()
    {
        var (_, direct) = Read("unknown-keyword.conf");

        Assert.Equal(2, direct.Warnings.Count);
        Assert.Contains(direct.Warnings, w => w.Contains("unknown-keyword.conf line 3") && w.Contains("'bogus_setting'"));
        Assert.Contains(direct.Warnings, w => w.Contains("unknown-keyword.conf line 8") && w.Contains("'some_future_block'"));

        var main = LvsConfigReader.Read(ConfigFixture.PathOf("keepalived", "keepalived.conf"));
        Assert.DoesNotContain(main.Warnings, w => w.Contains("unknown keyword", StringComparison.Ordinal));
    }

    /// <summary>
    /// The bound is loose because test runs share the CPUs: at a load average of 24 on 2 CPUs this took about 1 s,
    /// as the parser before it did. It is there to catch work that grows faster than the file.
    /// </summary>
    [Fact]
    public void FiveThousandServices_ParseWellUnderASecond()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 5000; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"virtual_server 198.18.{i / 250}.{i % 250 + 1} 80 {{\n    lvs_sched wlc\n    lvs_method DR\n    protocol TCP\n");
            for (var r = 1; r <= 4; r++)
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"    real_server 198.19.0.{r} 80 {{\n        weight {r}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n");
            }

            text.Append("}\n");
        }

        var config = text.ToString();
        KeepalivedConfigParser.Parse(config, "/nonexistent/bench.conf");
        var best = TimeSpan.MaxValue;
        IReadOnlyList<LvsVirtualService> services = [];
        for (var run = 0; run < 3; run++)
        {
            var watch = Stopwatch.StartNew();
            services = KeepalivedConfigParser.Parse(config, "/nonexistent/bench.conf");
            best = watch.Elapsed < best ? watch.Elapsed : best;
        }

        Assert.Equal(5000, services.Count);
        Assert.All(services, s => Assert.Equal(4, s.RealServers.Count));
        Assert.True(best < TimeSpan.FromSeconds(3), $"5000 services took {best.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public void ADirectory_IsAClearFileError()
    {
        var ex = Assert.Throws<LvsException>(() => LvsConfigReader.Read(ConfigFixture.PathOf("keepalived", "kw")));

        Assert.Equal(LvsErrorKind.FileError, ex.Kind);
        Assert.Contains("is a directory", ex.Message);
    }

    [Fact]
    public void FormatKeepalived_OnAPiranhaFile_IsAnErrorThatNamesTheFormat()
    {
        var ex = Assert.Throws<LvsException>(() => LvsConfigReader.Read(ConfigFixture.PathOf("piranha", "lvs.cf"), LvsConfigFormat.Keepalived));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("looks like a Piranha lvs.cf", ex.Message);
        Assert.Contains("-Format Piranha", ex.Message);
    }
}

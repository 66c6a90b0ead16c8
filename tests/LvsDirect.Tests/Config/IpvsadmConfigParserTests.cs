using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;
using Xunit;

namespace LvsDirect.Tests.Config;

public class IpvsadmConfigParserTests
{
    [Theory]
    [InlineData("ipvsadm-save.txt")]
    [InlineData("ipvsadm-Ln.txt")]
    public void Parse_BothForms_GiveTheSameServices(string fixture)
    {
        var services = IpvsadmConfigParser.Parse(ConfigFixture.Text("ipvsadm", fixture), fixture);

        Assert.Equal(["tcp 192.0.2.100:80", "tcp 192.0.2.101:443", "udp 192.0.2.100:53", "tcp fwmark 7", "tcp [2001:db8::100]:80"], services.Select(s => s.ToString()));
        Assert.Equal(["wlc", "rr", "sh", "wlc", "wlc"], services.Select(s => s.Scheduler));
        Assert.Equal(
            [LvsForwardingMethod.Direct, LvsForwardingMethod.Nat, LvsForwardingMethod.Tunnel, LvsForwardingMethod.Direct, LvsForwardingMethod.Direct],
            services.Select(s => s.ForwardingMethod));
        Assert.Equal(["192.0.2.11:80", "192.0.2.12:80"], services[0].RealServers.Select(r => r.ToString()));
        Assert.Equal([1, 2], services[0].RealServers.Select(r => r.Weight));
        Assert.Equal(7, services[3].FirewallMark);
        Assert.Null(services[3].Address);
    }

    [Fact]
    public void Parse_MixedMethods_KeepsEachRealServersOwn()
    {
        var s = Assert.Single(IpvsadmConfigParser.Parse(
            "-A -t 192.0.2.100:80 -s wlc\n-a -t 192.0.2.100:80 -r 10.0.0.1:80 -m -w 1\n-a -t 192.0.2.100:80 -r 192.0.2.11 -g -w 1\n", "save"));

        Assert.Equal(LvsForwardingMethod.Direct, s.ForwardingMethod);
        Assert.Equal([LvsForwardingMethod.Nat, LvsForwardingMethod.Direct], s.RealServers.Select(r => r.ForwardingMethod));
        Assert.Equal(80, s.RealServers[1].Port);
    }

    [Theory]
    [InlineData("-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1\n", "line 1")]
    [InlineData("-A -t 192.0.2.100:80 -s wlc\n-A -t 192.0.2.400:80 -s wlc\n", "line 2")]
    [InlineData("  -> 192.0.2.11:80 Route 1 0 0\n", "line 1")]
    public void Parse_Malformed_IsParseErrorWithLine(string text, string expected)
    {
        var ex = Assert.Throws<LvsException>(() => IpvsadmConfigParser.Parse(text, "save"));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("save " + expected, ex.Message);
    }

    [Fact]
    public void Parse_NullMethodOfFullNat_IsAnErrorNotADirectRealServer()
    {
        var ex = Assert.Throws<LvsException>(() => IpvsadmConfigParser.Parse(ConfigFixture.Text("ipvsadm", "refused", "ipvsadm-save-null.txt"), "save"));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("save line 4", ex.Message);
        Assert.Contains("'(null)'", ex.Message);
        Assert.Contains("ipvsadm -R refuses", ex.Message);
    }

    [Theory]
    [InlineData("-A -t 192.0.2.100:80 -s wlc --frobnicate\n", "'--frobnicate' is not an ipvsadm option")]
    [InlineData("-A -t 192.0.2.100:80 -s wlc\n-a -t 192.0.2.100:80 -r 192.0.2.11:80 -q -w 1\n", "'-q' is not an ipvsadm option")]
    public void Parse_UnknownToken_IsAnError(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<LvsException>(() => IpvsadmConfigParser.Parse(text, "save")).Message);
    }

    [Theory]
    [InlineData("ipvsadm-Ln-stats.txt", "this is ipvsadm --stats output", 2)]
    [InlineData("ipvsadm-Ln-rate.txt", "this is ipvsadm --rate output", 2)]
    public void Parse_StatsAndRateListings_SayWhatTheyAre(string fixture, string expected, int line)
    {
        var ex = Assert.Throws<LvsException>(() => IpvsadmConfigParser.Parse(ConfigFixture.Text("ipvsadm", "refused", fixture), fixture));

        Assert.Contains($"{fixture} line {line}: {expected}", ex.Message);
        Assert.Contains("ipvsadm -Sn", ex.Message);
    }

    [Fact]
    public void Parse_StatsLinesWithoutTheirHeader_AreStillRecognised()
    {
        var ex = Assert.Throws<LvsException>(() => IpvsadmConfigParser.Parse("TCP  192.0.2.100:80  10 120 0 8000 0\n  -> 192.0.2.11:80  5 60 0 4000 0\n", "cut"));

        Assert.Contains("cut line 2: this is ipvsadm --stats or --rate output", ex.Message);
    }

    [Theory]
    [InlineData("ipvsadm-L-names.txt", 4)]
    [InlineData("ipvsadm-save-names.txt", 1)]
    public void Parse_OutputMadeWithoutN_SaysUseN(string fixture, int line)
    {
        var ex = Assert.Throws<LvsException>(() => IpvsadmConfigParser.Parse(ConfigFixture.Text("ipvsadm", "refused", fixture), fixture));

        Assert.Contains($"{fixture} line {line}:", ex.Message);
        Assert.Contains("made without -n", ex.Message);
        Assert.Contains("ipvsadm -Sn", ex.Message);
    }

    [Fact]
    public void Parse_EveryOptionOfTheManPage_IsReadAndEditsAndDeletesApply()
    {
        var services = IpvsadmConfigParser.Parse(ConfigFixture.Text("ipvsadm", "more", "ipvsadm-save-options.txt"), "save");

        Assert.Equal(["tcp 192.0.2.100:80", "tcp fwmark 7"], services.Select(s => s.ToString()));
        Assert.Equal("rr", services[0].Scheduler);
        Assert.Equal(["192.0.2.11:80"], services[0].RealServers.Select(r => r.ToString()));
        Assert.Equal(LvsForwardingMethod.Tunnel, Assert.Single(services[1].RealServers).ForwardingMethod);
    }

    [Fact]
    public void Parse_Ipv6Zone_IsKeptAsWritten()
    {
        var s = Assert.Single(IpvsadmConfigParser.Parse("-A -t [fe80::100%eth0]:80 -s wlc\n-a -t [fe80::100%eth0]:80 -r [fe80::11%eth0]:80 -g -w 1\n", "save"));

        Assert.Equal("[fe80::100%eth0]:80", s.Endpoint());
        Assert.Equal("[fe80::11%eth0]:80", Assert.Single(s.RealServers).ToString());
    }
}

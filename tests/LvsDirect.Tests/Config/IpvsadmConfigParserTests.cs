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
}

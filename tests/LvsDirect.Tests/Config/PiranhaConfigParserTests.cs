using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;
using Xunit;

namespace LvsDirect.Tests.Config;

public class PiranhaConfigParserTests
{
    [Fact]
    public void Parse_DirectNetwork_ReadsActiveVirtualsAndServers()
    {
        var services = PiranhaConfigParser.Parse(ConfigFixture.Text("piranha", "lvs.cf"), "lvs.cf");

        Assert.Equal(["web", "dns"], services.Select(s => s.Name));
        var web = services[0];
        Assert.Equal("192.0.2.100:80", web.Endpoint());
        Assert.Equal("tcp", web.Protocol);
        Assert.Equal("wlc", web.Scheduler);
        Assert.Equal(LvsForwardingMethod.Direct, web.ForwardingMethod);
        Assert.Equal(12, web.SourceLine);
        Assert.Equal(["192.0.2.11:80", "192.0.2.12:80"], web.RealServers.Select(r => r.ToString()));
        Assert.Equal([1, 2], web.RealServers.Select(r => r.Weight));
        Assert.Equal("udp", services[1].Protocol);
    }

    [Fact]
    public void Parse_NatNetwork_AppliesToEveryService()
    {
        var s = Assert.Single(PiranhaConfigParser.Parse(ConfigFixture.Text("piranha", "lvs-nat.cf"), "lvs-nat.cf"));

        Assert.Equal(LvsForwardingMethod.Nat, s.ForwardingMethod);
        Assert.Equal(LvsForwardingMethod.Nat, Assert.Single(s.RealServers).ForwardingMethod);
    }

    [Theory]
    [InlineData("virtual web {\n address = 192.0.2.1\n", "line 1")]
    [InlineData("virtual web {\n address = 192.0.2.999 eth0:1\n}\n", "line 2")]
    [InlineData("network = direct\n}\n", "line 2")]
    [InlineData("this is not piranha\n", "line 1")]
    public void Parse_Malformed_IsParseErrorWithLine(string text, string expected)
    {
        var ex = Assert.Throws<LvsException>(() => PiranhaConfigParser.Parse(text, "lvs.cf"));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("lvs.cf " + expected, ex.Message);
    }

    [Fact]
    public void Parse_AddressAndFwmark_TheAddressIsTheVip()
    {
        var s = Assert.Single(PiranhaConfigParser.Parse(ConfigFixture.Text("piranha", "lvs-fwmark.cf"), "lvs-fwmark.cf"));

        Assert.Equal("192.0.2.100", s.Address?.ToString());
        Assert.Equal(80, s.FirewallMark);
        Assert.Equal("192.0.2.100:80 fwmark 80", s.Endpoint());

        var result = LvsConfigReader.Read(ConfigFixture.PathOf("piranha", "lvs-fwmark.cf"));
        Assert.Equal(["192.0.2.11:80"], Assert.Single(result.Services).RealServers.Select(r => r.ToString()));
        Assert.Empty(result.Warnings);
        var assignment = Assert.Single(LvsDirect.Core.Pool.RealServerPool.GroupByRealServer(result.Services).Assignments);
        Assert.Equal("192.0.2.11", assignment.Address.ToString());
        Assert.Equal(["192.0.2.100"], assignment.VirtualIPs.Select(v => v.ToString()));
    }

    [Fact]
    public void Parse_PortNames_AreResolvedThroughTheServicesFile()
    {
        var options = new LvsConfigOptions { ServicesPath = ConfigFixture.PathOf("piranha", "services") };
        var services = PiranhaConfigParser.Parse(ConfigFixture.Text("piranha", "lvs-portnames.cf"), "lvs-portnames.cf", options);

        Assert.Equal(["192.0.2.101:21", "192.0.2.102:80"], services.Select(s => s.Endpoint()));
        Assert.Equal("192.0.2.21:21", Assert.Single(services[0].RealServers).ToString());
        Assert.Equal("192.0.2.22:80", Assert.Single(services[1].RealServers).ToString());
    }

    [Fact]
    public void Parse_UnknownPortName_NamesTheLineAndTheServicesFile()
    {
        var options = new LvsConfigOptions { ServicesPath = ConfigFixture.PathOf("piranha", "services") };
        var ex = Assert.Throws<LvsException>(() => PiranhaConfigParser.Parse("virtual v {\n address = 192.0.2.1\n port = gopher\n}\n", "lvs.cf", options));

        Assert.Contains("lvs.cf line 3", ex.Message);
        Assert.Contains("'gopher'", ex.Message);
        Assert.Contains(options.ServicesPath, ex.Message);
    }

    [Fact]
    public void Parse_ABlockLvsCfDoesNotHave_IsAWarningWithTheLine()
    {
        var warnings = new List<string>();
        var services = PiranhaConfigParser.Parse("virtul web {\n address = 192.0.2.1\n}\nfailover ftp {\n address = 192.0.2.2\n}\nvirtual dns {\n address = 192.0.2.3\n sever dns1 {\n  address = 192.0.2.21\n }\n}\n", "lvs.cf", null, warnings);

        Assert.Equal(["dns"], services.Select(s => s.Name));
        Assert.Equal(2, warnings.Count);
        Assert.StartsWith("lvs.cf line 1: 'virtul' block left out", warnings[0]);
        Assert.StartsWith("lvs.cf line 9: 'sever' block left out", warnings[1]);
    }
}

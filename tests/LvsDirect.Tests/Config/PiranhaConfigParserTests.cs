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
}

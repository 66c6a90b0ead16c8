using System.Net;
using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;
using Xunit;

namespace LvsDirect.Tests.Config;

public class KeepalivedConfigParserTests
{
    private static IReadOnlyList<LvsVirtualService> MainConfig() => KeepalivedConfigParser.ParseFile(ConfigFixture.PathOf("keepalived", "keepalived.conf"));

    private static LvsVirtualService Service(string address, int port) =>
        MainConfig().Single(s => Equals(s.Address, IPAddress.Parse(address)) && s.Port == port);

    [Fact]
    public void ParseFile_DrService_ReadsSchedulerProtocolAndRealServers()
    {
        var web = Service("192.0.2.100", 80);

        Assert.Equal("tcp", web.Protocol);
        Assert.Equal("wlc", web.Scheduler);
        Assert.Equal(LvsForwardingMethod.Direct, web.ForwardingMethod);
        Assert.Null(web.FirewallMark);
        Assert.Equal(25, web.SourceLine);
        Assert.EndsWith("keepalived.conf", web.SourceFile);
        Assert.Equal(["192.0.2.11:80", "192.0.2.12:80"], web.RealServers.Select(r => r.ToString()));
        Assert.Equal([1, 3], web.RealServers.Select(r => r.Weight));
        Assert.All(web.RealServers, r => Assert.Equal(LvsForwardingMethod.Direct, r.ForwardingMethod));
    }

    [Fact]
    public void ParseFile_ReadsOnlyVirtualServers_EvenWithBracesAndCommentCharsInQuotedStrings()
    {
        Assert.Equal(
            ["tcp 192.0.2.100:80", "tcp 192.0.2.101:443", "udp [2001:db8::100]:53", "tcp fwmark 7",
             "tcp 192.0.2.110:80", "tcp 192.0.2.111:80", "tcp 192.0.2.112:80", "tcp 198.51.100.5:8080", "tcp fwmark 9",
             "tcp 192.0.2.120:25", "udp 192.0.2.130:53"],
            MainConfig().Select(s => s.ToString()));
    }

    [Fact]
    public void ParseFile_NatService_IsReadAsNat()
    {
        Assert.Equal(LvsForwardingMethod.Nat, Service("192.0.2.101", 443).ForwardingMethod);
    }

    [Fact]
    public void ParseFile_Ipv6Service_IsAcceptedAsData()
    {
        var dns = Service("2001:db8::100", 53);

        Assert.Equal("udp", dns.Protocol);
        Assert.Equal("[2001:db8::11]:53", Assert.Single(dns.RealServers).ToString());
    }

    [Fact]
    public void ParseFile_FwmarkService_HasMarkAndNoAddress()
    {
        var fw = Assert.Single(MainConfig(), s => s.FirewallMark == 7);

        Assert.Null(fw.Address);
        Assert.Equal("fwmark 7", fw.Endpoint());
    }

    [Fact]
    public void ParseFile_GroupService_ExpandsRangesAndMembers()
    {
        var group = MainConfig().Where(s => s.Name == "WEBFARM").ToList();

        Assert.Equal(["192.0.2.110:80", "192.0.2.111:80", "192.0.2.112:80", "198.51.100.5:8080", "fwmark 9"], group.Select(s => s.Endpoint()));
        Assert.All(group, s => Assert.Equal(LvsForwardingMethod.Tunnel, s.ForwardingMethod));
        Assert.All(group, s => Assert.Equal("lc", s.Scheduler));
    }

    [Fact]
    public void ParseFile_Includes_AreRelativeToTheIncludingFileAndRecursive()
    {
        var mail = Service("192.0.2.120", 25);
        var dns = Service("192.0.2.130", 53);

        Assert.EndsWith(Path.Combine("conf.d", "10-mail.conf"), mail.SourceFile);
        Assert.Equal(2, mail.SourceLine);
        Assert.EndsWith(Path.Combine("nested", "dns.inc"), dns.SourceFile);
        Assert.Equal(11, MainConfig().Count);
    }

    [Fact]
    public void ParseFile_IncludeCycle_IsAParseErrorNamingTheFile()
    {
        var ex = Assert.Throws<LvsException>(() => KeepalivedConfigParser.ParseFile(ConfigFixture.PathOf("keepalived", "cycle", "a.conf")));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("include cycle", ex.Message);
        Assert.Contains("b.conf line 4", ex.Message);
    }

    [Fact]
    public void ParseFile_UnbalancedBraces_NamesFileAndLineOfTheOpenBrace()
    {
        var ex = Assert.Throws<LvsException>(() => KeepalivedConfigParser.ParseFile(ConfigFixture.PathOf("keepalived", "unbalanced.conf")));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("unbalanced.conf line 1", ex.Message);
    }

    [Fact]
    public void ParseFile_BadAddress_NamesFileAndLine()
    {
        var ex = Assert.Throws<LvsException>(() => KeepalivedConfigParser.ParseFile(ConfigFixture.PathOf("keepalived", "bad-address.conf")));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("bad-address.conf line 5", ex.Message);
        Assert.Contains("192.0.2.300", ex.Message);
    }

    [Theory]
    [InlineData("}\n", "line 1")]
    [InlineData("virtual_server group NOPE {\n}\n", "NOPE")]
    [InlineData("virtual_server 10.1 80 {\n}\n", "10.1")]
    public void Parse_Malformed_IsParseError(string text, string expected)
    {
        var ex = Assert.Throws<LvsException>(() => KeepalivedConfigParser.Parse(text, "/nonexistent/k.conf"));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Parse_TokensMaySpanLines_AndDefaultsAreKeepalivedDefaults()
    {
        var s = Assert.Single(KeepalivedConfigParser.Parse("virtual_server 192.0.2.1 80\n{\nreal_server 192.0.2.2 80\n{\n}\n}\n", "/nonexistent/k.conf"));

        Assert.Equal(LvsForwardingMethod.Nat, s.ForwardingMethod);
        Assert.Equal("tcp", s.Protocol);
        Assert.Equal(1, Assert.Single(s.RealServers).Weight);
    }

    [Fact]
    public void ParseFile_LargeGeneratedConfig_Reads200ServicesOf4RealServers()
    {
        var services = KeepalivedConfigParser.ParseFile(ConfigFixture.PathOf("keepalived", "large-200.conf"));

        Assert.Equal(200, services.Count);
        Assert.All(services, s => Assert.Equal(4, s.RealServers.Count));
        Assert.All(services, s => Assert.Equal(LvsForwardingMethod.Direct, s.ForwardingMethod));
        Assert.Equal("203.0.113.100:443", services[^1].Endpoint());
        Assert.Equal([1, 2, 3, 4], services[0].RealServers.Select(r => r.Weight));
    }
}

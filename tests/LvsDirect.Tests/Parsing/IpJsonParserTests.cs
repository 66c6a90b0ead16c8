using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using Xunit;

namespace LvsDirect.Tests.Parsing;

public class IpJsonParserTests
{
    // The sample from the design brief (a veth whose peer is down).
    private const string VethSample =
        """[{"ifindex":3,"link":"vB","ifname":"vA","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP","M-DOWN"],"mtu":1500,"qdisc":"noqueue","operstate":"LOWERLAYERDOWN","group":"default","txqlen":1000,"link_type":"ether","address":"16:ce:c6:dd:1a:dd","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"192.0.2.10","prefixlen":24,"scope":"global","label":"vA","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"203.0.113.100","prefixlen":32,"scope":"global","label":"vA:1","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]""";

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ip", name));

    private static NetInterface Lab(string name) => IpJsonParser.ParseAddresses(Fixture("addr-lab.json")).Single(i => i.Name == name);

    private static InterfaceAddress LabAddress(string ifName, string address) =>
        Lab(ifName).Addresses.Single(a => a.Address.Equals(IPAddress.Parse(address)));

    [Fact]
    public void ParseAddresses_LabFixture_ReturnsEveryInterfaceInKernelOrder()
    {
        var interfaces = IpJsonParser.ParseAddresses(Fixture("addr-lab.json"));

        Assert.Equal(["lo", "vB", "vA", "tun1"], interfaces.Select(i => i.Name));
        Assert.Equal([1, 2, 3, 4], interfaces.Select(i => i.Index));
    }

    [Fact]
    public void ParseAddresses_LabFixture_ReadsVipAsLabelledSlash32()
    {
        var vip = LabAddress("vA", "203.0.113.100");

        Assert.Equal("vA", vip.InterfaceName);
        Assert.Equal(32, vip.PrefixLength);
        Assert.Equal("vA:1", vip.Label);
        Assert.Equal("global", vip.Scope);
        Assert.False(vip.Secondary);
        Assert.Null(vip.Broadcast);
        Assert.Equal("203.0.113.100/32", vip.Cidr);
    }

    [Fact]
    public void ParseAddresses_LabFixture_ReadsPrimaryWithBroadcastAndSecondaryFlag()
    {
        var primary = LabAddress("vA", "192.0.2.10");
        var secondary = LabAddress("vA", "192.0.2.11");

        Assert.Equal(IPAddress.Parse("192.0.2.255"), primary.Broadcast);
        Assert.False(primary.Secondary);
        Assert.True(secondary.Secondary);
        Assert.Equal("vA", secondary.Label);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), Lab("vA").PrimaryIPv4);
    }

    [Fact]
    public void ParseAddresses_LabFixture_ReadsIPv6WithoutLabel()
    {
        var v6 = LabAddress("vA", "2001:db8::10");

        Assert.Equal(64, v6.PrefixLength);
        Assert.Null(v6.Label);
        Assert.Equal("global", v6.Scope);
        Assert.Equal(4, Lab("vA").Addresses.Count);
    }

    [Fact]
    public void ParseAddresses_LabFixture_ReadsLoopbackVipAndHostScope()
    {
        var lo = Lab("lo");

        Assert.True(lo.IsUp);
        Assert.Equal("host", lo.Addresses.Single(a => a.Address.Equals(IPAddress.Loopback)).Scope);
        Assert.Equal("lo:vip", LabAddress("lo", "203.0.113.200").Label);
        Assert.Equal(IPAddress.Parse("203.0.113.200"), lo.PrimaryIPv4);
    }

    [Fact]
    public void ParseAddresses_UpFlagWithoutCarrier_IsUpAndKeepsOperState()
    {
        var vA = Lab("vA");
        var vB = Lab("vB");

        Assert.True(vA.IsUp);
        Assert.Equal("LOWERLAYERDOWN", vA.OperState);
        Assert.False(vB.IsUp);
        Assert.Equal("DOWN", vB.OperState);
    }

    [Fact]
    public void ParseAddresses_TunWithoutHardwareAddress_HasNullMacAndNoAddresses()
    {
        var tun = Lab("tun1");

        Assert.Null(tun.MacAddress);
        Assert.Empty(tun.Addresses);
        Assert.Null(tun.PrimaryIPv4);
    }

    [Fact]
    public void ParseAddresses_FreshNamespace_ReturnsDownLoopbackWithoutAddresses()
    {
        var lo = Assert.Single(IpJsonParser.ParseAddresses(Fixture("addr-fresh-namespace.json")));

        Assert.Equal("lo", lo.Name);
        Assert.False(lo.IsUp);
        Assert.Equal("00:00:00:00:00:00", lo.MacAddress);
        Assert.Empty(lo.Addresses);
    }

    [Fact]
    public void ParseAddresses_BriefSample_ReadsMacAndBothAddresses()
    {
        var vA = Assert.Single(IpJsonParser.ParseAddresses(VethSample));

        Assert.Equal("16:ce:c6:dd:1a:dd", vA.MacAddress);
        Assert.Equal(3, vA.Index);
        Assert.Equal(["192.0.2.10/24", "203.0.113.100/32"], vA.Addresses.Select(a => a.Cidr));
    }

    [Fact]
    public void ParseAddresses_EntryWithoutAddrInfo_IsReturnedWithNoAddresses()
    {
        var link = Assert.Single(IpJsonParser.ParseAddresses("""[{"ifindex":7,"ifname":"eth9","flags":["UP"],"operstate":"UP"}]"""));

        Assert.Equal("eth9", link.Name);
        Assert.True(link.IsUp);
        Assert.Empty(link.Addresses);
    }

    [Theory]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\"", "not valid JSON")]
    [InlineData("{\"ifindex\":1}", "Object")]
    [InlineData("[{\"ifindex\":1,\"flags\":[]}]", "'ifname'")]
    [InlineData("[{\"ifindex\":\"one\",\"ifname\":\"lo\"}]", "'ifindex' of interface lo")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"300.1.1.1\",\"prefixlen\":8}]}]", "300.1.1.1")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\"}]}]", "'prefixlen' of interface lo")]
    [InlineData("", "not valid JSON")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[7]}]", "an addr_info entry of interface lo is Number, not an object")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":4,\"local\":\"127.0.0.1\",\"prefixlen\":8}]}]", "'family' of interface lo is Number, not a string")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"prefixlen\":8}]}]", "'local' of interface lo is missing")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":null,\"prefixlen\":8}]}]", "'local' of interface lo is missing")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":null}]}]", "'prefixlen' of interface lo is not a 32-bit integer: null")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"label\":[]}]}]", "'label' of interface lo is Array, not a string")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":254}]}]", "'scope' of interface lo is Number, not a string")]
    [InlineData("[{\"ifindex\":1,\"ifname\":\"lo\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"broadcast\":\"x\"}]}]", "'broadcast' of interface lo is not an IP address: 'x'")]
    public void ParseAddresses_Malformed_ThrowsParseErrorNamingTheProblem(string json, string expectedInMessage)
    {
        var ex = Assert.Throws<LvsException>(() => IpJsonParser.ParseAddresses(json));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains(expectedInMessage, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseAddresses_EntryFields_AreReadWhateverTheirOrderAndOtherFamiliesAreSkipped()
    {
        const string json = "[{\"ifindex\":2,\"ifname\":\"eth0\",\"flags\":[\"UP\"],\"addr_info\":["
            + "{\"prefixlen\":24,\"scope\":\"link\",\"local\":\"192.0.2.7\",\"family\":\"inet\",\"label\":\"eth0:vip\",\"secondary\":true,\"broadcast\":\"192.0.2.255\"},"
            + "{\"family\":\"inet\",\"local\":\"192.0.2.8\",\"prefixlen\":32,\"label\":\"eth0\"},"
            + "{\"family\":\"inet\",\"local\":\"192.0.2.9\",\"prefixlen\":32,\"scope\":\"site\"},"
            + "{\"family\":\"link\",\"local\":17,\"prefixlen\":\"x\"},"
            + "{\"family\":\"inet6\",\"local\":\"2001:db8::7\",\"prefixlen\":128,\"scope\":\"host\"}]}]";

        var a = IpJsonParser.ParseAddresses(json).Single().Addresses;

        Assert.Equal(["192.0.2.7", "192.0.2.8", "192.0.2.9", "2001:db8::7"], a.Select(x => x.Address.ToString()));
        Assert.Equal([24, 32, 32, 128], a.Select(x => x.PrefixLength));
        Assert.Equal(["link", "global", "site", "host"], a.Select(x => x.Scope));
        Assert.Equal(["eth0:vip", "eth0", null, null], a.Select(x => x.Label));
        Assert.Equal([true, false, false, false], a.Select(x => x.Secondary));
        Assert.Equal(IPAddress.Parse("192.0.2.255"), a[0].Broadcast);
        Assert.Null(a[1].Broadcast);
    }

    [Fact]
    public void ParseDefaultRoutes_Fixture_SortsByMetricWithMissingAsZero()
    {
        var routes = IpJsonParser.ParseDefaultRoutes(Fixture("route-default.json"));

        Assert.Equal(
            [new DefaultRoute("vA", IPAddress.Parse("192.0.2.254"), 0), new DefaultRoute("vA", IPAddress.Parse("192.0.2.1"), 100), new DefaultRoute("vA", null, 200)],
            routes);
    }

    [Fact]
    public void ParseDefaultRoutes_UnsortedInput_ReturnsLowestMetricFirst()
    {
        var routes = IpJsonParser.ParseDefaultRoutes(
            """[{"dst":"default","gateway":"198.51.100.1","dev":"vB","metric":50,"flags":[]},{"dst":"default","gateway":"192.0.2.1","dev":"vA","flags":["linkdown"]}]""");

        Assert.Equal(["vA", "vB"], routes.Select(r => r.InterfaceName));
        Assert.Equal([0, 50], routes.Select(r => r.Metric));
    }

    [Fact]
    public void ParseDefaultRoutes_NoDefaultRoute_ReturnsEmpty()
    {
        Assert.Empty(IpJsonParser.ParseDefaultRoutes(Fixture("route-none.json")));
    }

    [Fact]
    public void ParseDefaultRoutes_MultipathAndUnreachable_ExpandsNextHopsAndSkipsRoutesWithoutDevice()
    {
        // Captured from iproute2 6.1: a two-hop default plus unreachable and blackhole defaults.
        const string json =
            """[{"dst":"default","flags":[],"nexthops":[{"gateway":"192.0.2.1","dev":"vA","weight":1,"flags":[]},{"gateway":"198.51.100.1","dev":"vC","weight":2,"flags":[]}]},{"type":"unreachable","dst":"default","metric":300,"flags":[]},{"type":"blackhole","dst":"default","metric":400,"flags":[]}]""";

        var routes = IpJsonParser.ParseDefaultRoutes(json);

        Assert.Equal([new DefaultRoute("vA", IPAddress.Parse("192.0.2.1"), 0), new DefaultRoute("vC", IPAddress.Parse("198.51.100.1"), 0)], routes);
    }

    [Fact]
    public void ParseDefaultRoutes_Malformed_ThrowsParseError()
    {
        var ex = Assert.Throws<LvsException>(() => IpJsonParser.ParseDefaultRoutes("""[{"dst":"default","gateway":"192.0.2.x","dev":"vA"}]"""));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("192.0.2.x", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SplitDocuments_RealBatchOutput_YieldsAddressAndRouteDocuments()
    {
        var docs = IpJsonParser.SplitDocuments(Fixture("batch-addr-route.txt"));

        Assert.Equal(2, docs.Count);
        Assert.Equal(["lo", "vB", "vA", "tun1"], IpJsonParser.ParseAddresses(docs[0]).Select(i => i.Name));
        Assert.Equal([0, 100, 200], IpJsonParser.ParseDefaultRoutes(docs[1]).Select(r => r.Metric));
    }

    [Fact]
    public void SplitDocuments_RealPrettyBatchOutput_KeepsEmptyArrayOfCommandWithNoRoutes()
    {
        var docs = IpJsonParser.SplitDocuments(Fixture("batch-pretty.txt"));

        Assert.Equal(3, docs.Count);
        Assert.Equal("vB", Assert.Single(IpJsonParser.ParseAddresses(docs[0])).Name);
        Assert.Equal("[ ]", docs[1]);
        Assert.Empty(IpJsonParser.ParseDefaultRoutes(docs[1]));
        Assert.Equal([0, 100, 200], IpJsonParser.ParseDefaultRoutes(docs[2]).Select(r => r.Metric));
    }

    [Fact]
    public void SplitDocuments_DocumentsOnOneLine_AreSeparated()
    {
        Assert.Equal(["[]", "[{\"a\":1}]", "[]"], IpJsonParser.SplitDocuments("[][{\"a\":1}]\n[]\n"));
    }

    [Fact]
    public void SplitDocuments_BracketsAndEscapedQuotesInsideStrings_DoNotSplit()
    {
        const string first = """[{"ifname":"a]\"[{b","flags":["UP"]}]""";

        Assert.Equal([first, "[]"], IpJsonParser.SplitDocuments(first + "[]"));
    }

    [Fact]
    public void SplitDocuments_EmptyOutput_YieldsNoDocuments()
    {
        Assert.Empty(IpJsonParser.SplitDocuments("\n"));
    }

    [Theory]
    [InlineData("[{\"a\":1}]\n[{\"b\":", "truncated")]
    [InlineData("[]\nCommand failed -:2\n", "unexpected 'C'")]
    [InlineData("[]]", "unmatched ']'")]
    public void SplitDocuments_Malformed_ThrowsParseError(string text, string expectedInMessage)
    {
        var ex = Assert.Throws<LvsException>(() => IpJsonParser.SplitDocuments(text));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains(expectedInMessage, ex.Message, StringComparison.Ordinal);
    }
}

using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Planning;

/// <summary>Addresses that cannot be VIPs, real IPs that cannot stand in for them, and duplicates: refused before any step.</summary>
[Collection(CmdletCollection.Name)]
public sealed class VipValidationTests : IDisposable
{
    // eth0: 192.0.2.11/24 (primary) and 192.0.2.12/24 (secondary), VIP 203.0.113.100/32 (rules below) and
    // 203.0.113.50/32 (no rules); eth1: only 198.51.100.5/32 (a host address, no wider one); a default route via
    // 192.0.2.254 and a route to 198.18.0.0/15 via 192.0.2.253 in table 100.
    private const string Addresses =
        "[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\",\"UP\"],\"operstate\":\"UNKNOWN\",\"addr_info\":["
        + "{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":\"host\",\"label\":\"lo\"}]},"
        + "{\"ifindex\":2,\"ifname\":\"eth0\",\"flags\":[\"BROADCAST\",\"UP\"],\"operstate\":\"UP\",\"address\":\"02:00:00:00:00:11\",\"addr_info\":["
        + "{\"family\":\"inet\",\"local\":\"192.0.2.11\",\"prefixlen\":24,\"broadcast\":\"192.0.2.255\",\"scope\":\"global\",\"label\":\"eth0\"},"
        + "{\"family\":\"inet\",\"local\":\"192.0.2.12\",\"prefixlen\":24,\"broadcast\":\"192.0.2.255\",\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"},"
        + "{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"},"
        + "{\"family\":\"inet\",\"local\":\"203.0.113.50\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"},"
        + "{\"family\":\"inet6\",\"local\":\"2001:db8::11\",\"prefixlen\":64,\"scope\":\"global\"}]},"
        + "{\"ifindex\":3,\"ifname\":\"eth1\",\"flags\":[\"BROADCAST\",\"UP\"],\"operstate\":\"UP\",\"address\":\"02:00:00:00:00:12\",\"addr_info\":["
        + "{\"family\":\"inet\",\"local\":\"198.51.100.5\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth1\"},"
        + "{\"family\":\"inet\",\"local\":\"198.51.100.130\",\"prefixlen\":26,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth1\"}]}]\n"
        + "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\",\"flags\":[]}]\n"
        + "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\",\"flags\":[]},"
        + "{\"dst\":\"198.18.0.0/15\",\"table\":\"100\",\"nexthops\":[{\"gateway\":\"192.0.2.253\",\"dev\":\"eth0\",\"weight\":1},{\"gateway\":\"192.0.2.252\",\"dev\":\"eth0\",\"weight\":1}],\"flags\":[]},"
        + "{\"dst\":\"203.0.113.128/25\",\"via\":{\"family\":\"inet6\",\"host\":\"2001:db8::1\"},\"dev\":\"eth0\",\"flags\":[]},"
        + "{\"dst\":\"192.0.2.0/24\",\"dev\":\"eth0\",\"protocol\":\"kernel\",\"scope\":\"link\",\"prefsrc\":\"192.0.2.11\",\"flags\":[]}]\n";

    // 203.0.113.100 is suppressed by LvsDirect, in its own chains.
    private static readonly string Rules = Listing.FromSaveInOwnChains(
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n");

    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.11");

    private readonly string _dir = Directory.CreateTempSubdirectory("lvs-valid-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static HostState State() => HostInspector.Compose(Addresses, Rules, "arptables v1.8.9 (nf_tables)");

    private static FakeRunner Runner(bool withSysctls = false)
    {
        var runner = FakeRunner.Host().On("ip -j -batch -", Addresses).On("arptables -L -n", Rules);
        return withSysctls ? runner.On(string.Join(' ', ["sysctl", .. ArpSysctls.ReadCommand.Arguments]), "net.ipv4.conf.all.arp_ignore = 0\n") : runner;
    }

    private static DesiredChange Add(string vip, string iface = "eth0", string? realIp = null, int prefix = 32)
    {
        var d = new DesiredChange();
        var a = IPAddress.Parse(vip);
        d.EnsureSuppression.Add(new SuppressionRequest(a, realIp is null ? Rip : IPAddress.Parse(realIp), iface));
        d.EnsureVips.Add(new VipRequest(a, prefix, iface));
        return d;
    }

    private static LvsException Refused(Plan plan)
    {
        Assert.Empty(plan.Steps);
        return Assert.Single(plan.Rejected);
    }

    [Theory]
    [InlineData("1.0.0.0")]
    [InlineData("126.255.255.255")]
    [InlineData("128.0.0.0")]
    [InlineData("169.253.255.255")]
    [InlineData("169.255.0.0")]
    [InlineData("223.255.255.255")]
    [InlineData("255.255.255.254", "reserved")]
    public void TheAddressesNextToEachRefusedRange_AreRefusedOnlyWhereTheirOwnRangeSaysSo(string vip, string? why = null)
    {
        var refusal = VipValidation.RefuseClass(IPAddress.Parse(vip));

        if (why is null)
        {
            Assert.Null(refusal);
        }
        else
        {
            Assert.Contains(why, Assert.IsType<PlanRefusal>(refusal).Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("255.255.255.255", "limited broadcast")]
    [InlineData("224.0.0.18", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.10.0.1", "loopback")]
    [InlineData("169.254.1.1", "link-local")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("254.1.1.1", "reserved")]
    [InlineData("::", "unspecified")]
    [InlineData("::1", "loopback")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("ff02::1", "multicast")]
    public void AddressesNoHostCanHaveAsVip_AreInvalidVip_AndPlanNothing(string vip, string why)
    {
        var a = IPAddress.Parse(vip);
        var d = new DesiredChange();
        d.EnsureVips.Add(new VipRequest(a, a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128, "eth0"));
        if (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            d.EnsureSuppression.Add(new SuppressionRequest(a, Rip, "eth0"));
        }

        var refusal = Refused(Planner.Create(State(), d));

        Assert.Equal(LvsErrorKind.InvalidVip, refusal.Kind);
        Assert.Contains(why, refusal.Message, StringComparison.Ordinal);
        Assert.Equal(vip, refusal.Target);
        Assert.Equal(LvsErrorKind.InvalidVip, VipValidation.RefuseClass(a)!.Kind);
    }

    [Theory]
    [InlineData("203.0.113.1")]
    [InlineData("198.51.100.200")]
    [InlineData("2001:db8::100")]
    public void OrdinaryUnicastAddresses_PassTheClassCheck(string vip) =>
        Assert.Null(VipValidation.RefuseClass(IPAddress.Parse(vip)));

    [Theory]
    [InlineData("192.0.2.11", "the primary address of eth0 (192.0.2.11/24)")]
    [InlineData("192.0.2.12", "an address of this host's own subnet on eth0 (192.0.2.12/24)")]
    [InlineData("198.51.100.5", "the primary address of eth1 (198.51.100.5/32)")]
    [InlineData("198.51.100.130", "an address of this host's own subnet on eth1")]
    public void TheHostsOwnAddresses_AreHostAddress(string vip, string what)
    {
        var refusal = Refused(Planner.Create(State(), Add(vip)));

        Assert.Equal(LvsErrorKind.HostAddress, refusal.Kind);
        Assert.Contains(what, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("stop answering ARP for itself", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHostsOwnIPv6Address_IsHostAddress()
    {
        var d = new DesiredChange();
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("2001:db8::11"), 128, "lo"));

        Assert.Equal(LvsErrorKind.HostAddress, Refused(Planner.Create(State(), d)).Kind);
    }

    [Fact]
    public void AVipWhoseRulesExist_IsNoHostAddress_AndIsUnchanged()
    {
        var plan = Planner.Create(State(), Add("203.0.113.100"));

        Assert.Empty(plan.Rejected);
        Assert.Empty(plan.Steps);
        Assert.All(plan.Changes, c => Assert.Equal(ChangeKind.Unchanged, c.Kind));
    }

    [Fact]
    public void APrimaryOnlyAddressOfItsOwn_WithSuppression_IsAVip()
    {
        // An interface holding only VIPs: its first /32 counts as its primary, yet its rules say it is a VIP.
        var rules = Rules.Replace("-j DROP -d 203.0.113.100\n", "-j DROP -d 203.0.113.100\n-j DROP -d 198.51.100.5\n")
            .Replace("--mangle-ip-s 192.0.2.11\n", "--mangle-ip-s 192.0.2.11\n-j mangle -s 198.51.100.5 --mangle-ip-s 198.51.100.130\n");
        var state = HostInspector.Compose(Addresses, rules, "arptables v1.8.9 (nf_tables)");

        Assert.False(VipValidation.IsHostAddress(state, state.FindAddress(IPAddress.Parse("198.51.100.5")).Single()));
        Assert.True(VipValidation.IsHostAddress(State(), State().FindAddress(IPAddress.Parse("198.51.100.5")).Single()));
    }

    [Fact]
    public void TheBroadcastAddressOfASubnet_IsInvalidVip()
    {
        var refusal = Refused(Planner.Create(State(), Add("192.0.2.255")));

        Assert.Equal(LvsErrorKind.InvalidVip, refusal.Kind);
        Assert.Contains("broadcast address of 192.0.2.11/24 on eth0", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBroadcastAddressOfASubnet_IsComputed_WhenIpDoesNotPrintIt()
    {
        // 198.51.100.130/26 has no "broadcast" in the JSON above: its broadcast is 198.51.100.191.
        Assert.Equal(LvsErrorKind.InvalidVip, Refused(Planner.Create(State(), Add("198.51.100.191"))).Kind);
        Assert.Empty(Planner.Create(State(), Add("198.51.100.192")).Rejected);
    }

    [Theory]
    [InlineData("192.0.2.254")]
    [InlineData("192.0.2.253")]
    [InlineData("192.0.2.252")]
    public void TheGatewayOfAnyRoute_IsGatewayAddress(string vip)
    {
        var refusal = Refused(Planner.Create(State(), Add(vip)));

        Assert.Equal(LvsErrorKind.GatewayAddress, refusal.Kind);
        Assert.Contains("gateway", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseGateways_ReadsRouteGateways_NextHops_AndViaOfAnotherFamily()
    {
        var docs = IpJsonParser.SplitDocuments(Addresses);

        Assert.Equal(
            ["192.0.2.254", "192.0.2.253", "192.0.2.252", "2001:db8::1"],
            IpJsonParser.ParseGateways(docs[2]).Select(g => g.ToString()));
        Assert.Contains(IPAddress.Parse("2001:db8::1"), State().Gateways);
    }

    [Fact]
    public void HostInspector_AndTheAgentlessScript_AskIpForTheRoutesOfEveryTable()
    {
        const string reads = "address show\nroute show default\nroute show table all type unicast\n";
        Assert.Equal(reads, HostInspector.ReadAddressesCommand.StandardInput);
        Assert.Contains($"printf \"{reads.Replace("\n", "\\n", StringComparison.Ordinal)}\" | ip -j -batch -", LvsDirect.Core.Agentless.AgentlessScript.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", "eth0", "0.0.0.0 is no address")]
    [InlineData("203.0.113.7", "eth0", "the VIP itself")]
    [InlineData("192.0.2.99", "eth0", "this host has no such address")]
    [InlineData("198.51.100.130", "eth0", "it is on eth1, but ARP for 203.0.113.7 leaves by eth0")]
    [InlineData("203.0.113.100", "eth0", "it is a VIP itself")]
    public void ARealIpThatIsNotTheFacingInterfacesOwn_IsInvalidRealIP(string realIp, string iface, string why)
    {
        var refusal = Refused(Planner.Create(State(), Add("203.0.113.7", iface, realIp)));

        Assert.Equal(LvsErrorKind.InvalidRealIP, refusal.Kind);
        Assert.Contains(why, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Give one of 192.0.2.11, 192.0.2.12", refusal.Message, StringComparison.Ordinal);
        Assert.Equal("203.0.113.7", refusal.Target);
    }

    [Fact]
    public void ASecondaryAddressOfTheFacingInterface_IsAValidRealIp()
    {
        var plan = Planner.Create(State(), Add("203.0.113.7", realIp: "192.0.2.12"));

        Assert.Empty(plan.Rejected);
        Assert.Contains(plan.Steps, s => s.Command.Arguments.Contains("192.0.2.12"));
    }

    [Fact]
    public void OneVipWithTwoPrefixesOrInterfaces_IsConflictingRequest_AndNeitherIsPlanned()
    {
        var d = Add("203.0.113.7");
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.7"), 24, "eth0"));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.7"), 32, "eth1"));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.8"), 32, "eth0"));
        d.EnsureSuppression.Add(new SuppressionRequest(IPAddress.Parse("203.0.113.8"), Rip, "eth0"));

        var plan = Planner.Create(State(), d);

        var refusal = Assert.Single(plan.Rejected);
        Assert.Equal(LvsErrorKind.ConflictingRequest, refusal.Kind);
        Assert.Contains("203.0.113.7/32 on eth0; 203.0.113.7/24 on eth0; 203.0.113.7/32 on eth1", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Steps, s => string.Join(' ', s.Command.Arguments).Contains("203.0.113.7") || (s.Command.StandardInput ?? string.Empty).Contains("203.0.113.7"));
        Assert.Contains(plan.Steps, s => (s.Command.StandardInput ?? string.Empty).Contains("203.0.113.8/32"));
    }

    [Fact]
    public void OneVipWithTwoRealIpsOrTwoMethods_IsConflictingRequest()
    {
        var twoRealIps = Add("203.0.113.7");
        twoRealIps.EnsureSuppression.Add(new SuppressionRequest(IPAddress.Parse("203.0.113.7"), IPAddress.Parse("192.0.2.12"), "eth0"));
        var twoMethods = Add("203.0.113.7");
        twoMethods.EnsureNftSuppression.Add(new SuppressionRequest(IPAddress.Parse("203.0.113.7"), Rip, "eth0"));

        Assert.Equal(LvsErrorKind.ConflictingRequest, Refused(Planner.Create(State(), twoRealIps)).Kind);
        Assert.Contains("arptables with real IP 192.0.2.11; nftables with real IP 192.0.2.11", Refused(Planner.Create(State(), twoMethods)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExactDuplicates_AreMerged()
    {
        var d = Add("203.0.113.7");
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.7"), 32, "eth0"));
        d.EnsureSuppression.Add(new SuppressionRequest(IPAddress.Parse("203.0.113.7"), Rip, "eth0"));

        var plan = Planner.Create(State(), d);

        Assert.Empty(plan.Rejected);
        Assert.Equal("address add 203.0.113.7/32 dev eth0\n", plan.Steps.Single(s => s.Kind == StepKind.AddAddresses).Command.StandardInput);
        Assert.Equal(2, plan.Steps.Count(s => s.Kind == StepKind.ChangeArpRules));
    }

    [Fact]
    public void AVipOnAnotherInterface_IsVipOnOtherInterface_AndNamesRemoveLvsVip()
    {
        var refusal = Refused(Planner.Create(State(), Add("203.0.113.100", "eth1", "198.51.100.130")));

        Assert.Equal(LvsErrorKind.VipOnOtherInterface, refusal.Kind);
        Assert.Contains("Remove-LvsVip -Address 203.0.113.100 -InterfaceName eth0", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSysctlMethodForAVipOnEth0_RaisesNoSysctl_AndNamesTheInPlaceSwitch()
    {
        var state = new HostState(State().Interfaces, State().DefaultRoutes, State().ArpRules, State().Dialect, ArpSysctls.Parse(string.Empty));
        var d = new DesiredChange();
        d.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(IPAddress.Parse("203.0.113.100"), "eth0"));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.100"), 32, "lo"));

        var plan = Planner.Create(state, d);

        var refusal = Refused(plan);
        Assert.Equal(LvsErrorKind.VipOnOtherInterface, refusal.Kind);
        Assert.Contains("Set-ArpSuppression -VirtualIP 203.0.113.100 -Method Sysctl", refusal.Message, StringComparison.Ordinal);
        Assert.Empty(plan.SysctlRecorded);
    }

    [Fact]
    public void RemovingTheHostsOwnAddress_IsHostAddress_AndItsSuppressionStays()
    {
        var state = State();
        var d = new DesiredChange();
        d.RemoveAddresses.AddRange(state.FindAddress(Rip));
        d.RemoveSuppression.Add(Rip);
        d.RemoveAddresses.AddRange(state.FindAddress(IPAddress.Parse("203.0.113.100")));
        d.RemoveSuppression.Add(IPAddress.Parse("203.0.113.100"));

        var plan = Planner.Create(state, d);

        Assert.Equal(LvsErrorKind.HostAddress, Assert.Single(plan.Rejected).Kind);
        Assert.Contains("never removes it, not even with -Force", plan.Rejected[0].Message, StringComparison.Ordinal);
        Assert.Equal("address del 203.0.113.100/32 dev eth0\n", plan.Steps.Single(s => s.Kind == StepKind.RemoveAddresses).Command.StandardInput);
        Assert.DoesNotContain(plan.Changes, c => c.Address.Equals(Rip));
    }

    [Theory]
    [InlineData("203.0.113.011", "octal, so it would be 203.0.113.9", "203.0.113.11")]
    [InlineData("010.0.113.1", "octal, so it would be 8.0.113.1", "10.0.113.1")]
    [InlineData("203.0.113.019", "no octal number", "203.0.113.19")]
    public void LeadingZeros_AreInvalidAddress_AndSayWhy(string text, string why, string meant)
    {
        var ex = Assert.Throws<LvsException>(() => InputValidation.ParseVipCidr(text));

        Assert.Equal(LvsErrorKind.InvalidAddress, ex.Kind);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.Contains(meant, ex.Message, StringComparison.Ordinal);
    }

    // The quick parse of plain dotted quads and the regex behind it agree: what the first takes is exactly what
    // .NET reads, and what it leaves is still refused with the same error.
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData(" 198.19.3.250 ")]
    [InlineData("10.0.0.1")]
    public void PlainDottedQuads_ParseToTheAddressWritten(string text) =>
        Assert.Equal(IPAddress.Parse(text.Trim()), InputValidation.ParseIPv4(text));

    [Theory]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.4/32")]
    [InlineData("1..3.4")]
    [InlineData("1.2.3.1000")]
    [InlineData("\u0661.2.3.4")]
    [InlineData("1.2.3.4x")]
    [InlineData("")]
    public void AnythingElse_IsInvalidAddress(string text) =>
        Assert.Equal(LvsErrorKind.InvalidAddress, Assert.Throws<LvsException>(() => InputValidation.ParseIPv4(text)).Kind);

    [Fact]
    public void ASingleZeroOctet_IsNoLeadingZero() =>
        Assert.Equal(IPAddress.Parse("203.0.113.0"), InputValidation.ParseIPv4("203.0.113.0"));

    [Fact]
    public void NewLvsVip_Sysctl_OnAVipOnEth0_ChangesNothing_AndRecordsNothing()
    {
        var runner = Runner(withSysctls: true);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100"]);
        var statePath = Path.Combine(_dir, "arp-sysctl.json");

        var (output, errors, _) = host.Invoke($"New-LvsVip -Address 203.0.113.100 -Method Sysctl -SysctlStatePath '{statePath}'");

        Assert.Empty(output);
        Assert.StartsWith("VipOnOtherInterface,", Assert.Single(errors).FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
        Assert.False(File.Exists(statePath));
    }

    [Fact]
    public void NewLvsVip_TheSameVipPipedTwiceWithTwoRealIps_IsRefused_AndExactDuplicatesGiveOneObject()
    {
        var runner = Runner();
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke("'192.0.2.11', '192.0.2.12' | ForEach-Object { [pscustomobject]@{ Address = '203.0.113.7'; RealIP = $_ } } | New-LvsVip");
        Assert.StartsWith("ConflictingRequest,", Assert.Single(errors).FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);

        var (output, again, _) = host.Invoke("New-LvsVip -Address 203.0.113.7, 203.0.113.7/32");
        Assert.Empty(again);
        Assert.Single(output);
    }

    [Theory]
    [InlineData("New-LvsVip -Address 192.0.2.11", "HostAddress")]
    [InlineData("New-LvsVip -Address 192.0.2.254", "GatewayAddress")]
    [InlineData("New-LvsVip -Address 192.0.2.255", "InvalidVip")]
    [InlineData("New-LvsVip -Address 0.0.0.0", "InvalidVip")]
    [InlineData("New-LvsVip -Address 203.0.113.7 -RealIP 192.0.2.99", "InvalidRealIP")]
    [InlineData("New-LvsVip -Address 203.0.113.7 -RealIP 203.0.113.7", "InvalidRealIP")]
    [InlineData("New-LvsVip -Address 203.0.113.011", "InvalidAddress")]
    [InlineData("New-LvsVip -Address 192.0.2.11 -Method Sysctl -SysctlStatePath '{state}'", "HostAddress")]
    [InlineData("Set-ArpSuppression -VirtualIP 192.0.2.11", "HostAddress")]
    [InlineData("Set-ArpSuppression -VirtualIP 203.0.113.7 -RealIP 0.0.0.0", "InvalidRealIP")]
    [InlineData("Set-ArpSuppression -VirtualIP 192.0.2.11 -Method Sysctl -SysctlStatePath '{state}'", "HostAddress")]
    [InlineData("New-LvsRedirect -VirtualIP 224.0.0.1 -Port 80", "InvalidVip")]
    public void EachCmdlet_RefusesBeforeAnyChange(string command, string id)
    {
        var runner = Runner(withSysctls: true);
        using var host = new CmdletHost(runner);
        var statePath = Path.Combine(_dir, "arp-sysctl.json");

        var (_, errors, _) = host.Invoke(command.Replace("{state}", statePath, StringComparison.Ordinal));

        Assert.StartsWith($"{id},", Assert.Single(errors).FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
        Assert.False(File.Exists(statePath));
    }

    [Fact]
    public void SetLvsRealServer_WithOneRefusedVip_ChangesNothing_AndFailsWithItsId()
    {
        var runner = Runner(withSysctls: true);
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke($"Set-LvsRealServer -VirtualIP 203.0.113.7, 192.0.2.254 -SysctlStatePath '{Path.Combine(_dir, "s.json")}'");

        Assert.StartsWith("GatewayAddress,", Assert.Single(errors).FullyQualifiedErrorId);
        var result = Assert.IsType<LvsDirect.Core.Model.RealServerResult>(Assert.Single(output).BaseObject);
        Assert.Equal(LvsDirect.Core.Model.RealServerStatus.Failed, result.Status);
        Assert.Equal("GatewayAddress", result.ErrorId);
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void RealServerPlanner_TheSnapshotOfAnSshHost_RefusesItsGateway_AndTwoPrefixesOfOneVip()
    {
        var plan = LvsDirect.Core.Pool.RealServerPlanner.Create(
            State(),
            LvsDirect.Core.Host.Ownership.None,
            [(IPAddress.Parse("203.0.113.7"), 32), (IPAddress.Parse("192.0.2.254"), 32), (IPAddress.Parse("203.0.113.8"), 32), (IPAddress.Parse("203.0.113.8"), 28)],
            null).Plan;

        Assert.Equal(
            [(LvsErrorKind.GatewayAddress, IPAddress.Parse("192.0.2.254")), (LvsErrorKind.ConflictingRequest, IPAddress.Parse("203.0.113.8"))],
            plan.Rejected.Select(e => (e.Kind, e.Vip)));
        Assert.Equal([IPAddress.Parse("192.0.2.254"), IPAddress.Parse("203.0.113.8")], plan.Refused.Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))));
        var planned = string.Join('\n', plan.Steps.Select(s => string.Join(' ', s.Command.Arguments) + s.Command.StandardInput));
        Assert.DoesNotContain("192.0.2.254", planned, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.8", planned, StringComparison.Ordinal);
        Assert.Contains("203.0.113.7", planned, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Set-LvsRealServer -VirtualIP 127.0.0.1 -HostName rs1.invalid -Transport Ssh")]
    [InlineData("Set-LvsRealServer -VirtualIP 0.0.0.0 -HostName rs1.invalid")]
    [InlineData("[pscustomobject]@{ Address = '224.0.0.1'; Port = 80; RealServers = @([pscustomobject]@{ Address = '192.0.2.11'; Port = 80 }) } | Set-LvsRealServer -Transport Ssh")]
    public void SetLvsRealServer_AnInvalidVip_IsRefusedBeforeAnyHostIsContacted(string command)
    {
        var runner = Runner();
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke(command);

        Assert.StartsWith("InvalidVip,", Assert.Single(errors).FullyQualifiedErrorId);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public void RemoveLvsVip_OfAnAddressWithAnotherPrefix_RemovesNothing_AndSaysWhichPrefixItHas()
    {
        var wider = ",{\"family\":\"inet\",\"local\":\"203.0.113.7\",\"prefixlen\":28,\"scope\":\"global\",\"label\":\"eth0\"}";
        var runner = Runner().On("ip -j -batch -", Addresses.Replace(
            "{\"family\":\"inet6\",\"local\":\"2001:db8::11\",\"prefixlen\":64,\"scope\":\"global\"}]},", "{\"family\":\"inet6\",\"local\":\"2001:db8::11\",\"prefixlen\":64,\"scope\":\"global\"}" + wider + "]},", StringComparison.Ordinal))
            .On("arptables -L -n", Rules.Replace("-j DROP -d 203.0.113.100\n", "-j DROP -d 203.0.113.100\n-j DROP -d 203.0.113.7\n", StringComparison.Ordinal));
        using var host = new CmdletHost(runner, managed: ["203.0.113.7"]);

        var (_, errors, _) = host.Invoke("Remove-LvsVip -Address 203.0.113.7");

        var error = Assert.Single(errors);
        Assert.StartsWith("InvalidPrefix,", error.FullyQualifiedErrorId);
        Assert.Contains("-Address 203.0.113.7/28", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(runner.Changes);

        var (_, none, _) = host.Invoke("[pscustomobject]@{ Address = '203.0.113.7'; PrefixLength = 28 } | Remove-LvsVip");
        Assert.Empty(none);
        Assert.Contains(runner.Changes, c => c.StandardInput == "address del 203.0.113.7/28 dev eth0\n");
    }

    // A batch: each refusal is found once per VIP, whatever is shared between the VIPs of the call.
    private static DesiredChange Batch(params (string Vip, string RealIp, string Iface)[] vips)
    {
        var d = new DesiredChange();
        foreach (var (vip, realIp, iface) in vips)
        {
            var a = IPAddress.Parse(vip);
            d.EnsureSuppression.Add(new SuppressionRequest(a, IPAddress.Parse(realIp), iface));
            d.EnsureVips.Add(new VipRequest(a, 32, iface));
        }

        return d;
    }

    [Fact]
    public void ABatchWithTwoRealIps_RefusesOnlyTheVipsOfTheOneThatCannotStandIn_EachForItsOwnVip()
    {
        var plan = Planner.Create(State(), Batch(
            ("203.0.113.1", "192.0.2.11", "eth0"), ("203.0.113.2", "192.0.2.99", "eth0"),
            ("203.0.113.3", "192.0.2.11", "eth0"), ("203.0.113.4", "192.0.2.99", "eth0"),
            ("203.0.113.5", "192.0.2.11", "eth1")));

        Assert.Equal(["203.0.113.2", "203.0.113.4", "203.0.113.5"], plan.Rejected.Select(r => r.Vip.ToString()));
        Assert.All(plan.Rejected, r => Assert.Equal(LvsErrorKind.InvalidRealIP, r.Kind));
        Assert.Contains("for 203.0.113.4 in outgoing ARP: this host has no such address", plan.Rejected[1].Message, StringComparison.Ordinal);
        Assert.Contains("it is on eth0, but ARP for 203.0.113.5 leaves by eth1", plan.Rejected[2].Message, StringComparison.Ordinal);
        var arp = string.Join('\n', plan.Steps.Where(s => s.Kind == StepKind.ChangeArpRules).Select(s => string.Join(' ', s.Command.Arguments)));
        Assert.Contains("203.0.113.1,203.0.113.3", arp, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.2", arp, StringComparison.Ordinal);
    }

    [Fact]
    public void ABatchWhoseRealIpIsOneOfItsVips_RefusesThatVip_AndPlansTheOthers()
    {
        // 192.0.2.12 (eth0's secondary) is a real IP the other VIPs may name, and cannot be a VIP itself.
        var plan = Planner.Create(State(), Batch(
            ("203.0.113.1", "192.0.2.12", "eth0"), ("192.0.2.12", "192.0.2.12", "eth0"), ("203.0.113.3", "192.0.2.12", "eth0")));

        var refusal = Assert.Single(plan.Rejected);
        Assert.Equal("192.0.2.12", refusal.Vip.ToString());
        Assert.Contains(plan.Steps, s => string.Join(' ', s.Command.Arguments).Contains("203.0.113.1,203.0.113.3", StringComparison.Ordinal));
    }

    [Fact]
    public void SeveralConflictingVips_AreRefusedInTheOrderTheyWereFirstAskedFor()
    {
        var d = Batch(("203.0.113.9", "192.0.2.11", "eth0"), ("203.0.113.7", "192.0.2.11", "eth0"), ("203.0.113.8", "192.0.2.11", "eth0"));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.8"), 24, "eth0"));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.7"), 24, "eth0"));
        d.EnsureVips.Add(new VipRequest(IPAddress.Parse("203.0.113.8"), 32, "eth0"));

        var plan = Planner.Create(State(), d);

        Assert.Equal(["203.0.113.7", "203.0.113.8"], plan.Rejected.Select(r => r.Vip.ToString()));
        Assert.All(plan.Rejected, r => Assert.Equal(LvsErrorKind.ConflictingRequest, r.Kind));
        Assert.Contains("in 2 different ways", plan.Rejected[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameVipAskedForTwiceInTheSameWay_IsOneAddressLine()
    {
        var d = Batch(("203.0.113.7", "192.0.2.11", "eth0"), ("203.0.113.7", "192.0.2.11", "eth0"));

        var plan = Planner.Create(State(), d);

        Assert.Empty(plan.Rejected);
        var add = Assert.Single(plan.Steps, s => s.Kind == StepKind.AddAddresses);
        Assert.Equal("address add 203.0.113.7/32 dev eth0\n", add.Command.StandardInput);
    }
}

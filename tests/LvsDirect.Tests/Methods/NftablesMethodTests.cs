using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Planning;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Methods;

[Collection(CmdletCollection.Name)]
public class NftablesMethodTests
{
    // `nft -j list table arp lvsdirect` from nftables 1.0.6, plus a rule of another shape that is not LvsDirect's.
    private const string Json =
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}},"
        + "{\"table\": {\"family\": \"arp\", \"name\": \"lvsdirect\", \"handle\": 1}},"
        + "{\"chain\": {\"family\": \"arp\", \"table\": \"lvsdirect\", \"name\": \"input\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}},"
        + "{\"rule\": {\"family\": \"arp\", \"table\": \"lvsdirect\", \"chain\": \"input\", \"handle\": 3, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"arp\", \"field\": \"daddr ip\"}}, \"right\": \"203.0.113.100\"}}, {\"drop\": null}]}},"
        + "{\"rule\": {\"family\": \"arp\", \"table\": \"lvsdirect\", \"chain\": \"input\", \"handle\": 5, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"arp\", \"field\": \"daddr ip\"}}, \"right\": \"203.0.113.101\"}}, {\"drop\": null}]}},"
        + "{\"rule\": {\"family\": \"arp\", \"table\": \"lvsdirect\", \"chain\": \"input\", \"handle\": 6, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"iifname\"}}, \"right\": \"eth1\"}}, {\"drop\": null}]}},"
        + "{\"rule\": {\"family\": \"arp\", \"table\": \"lvsdirect\", \"chain\": \"output\", \"handle\": 4, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"arp\", \"field\": \"saddr ip\"}}, \"right\": \"203.0.113.100\"}}, {\"mangle\": {\"key\": {\"payload\": {\"protocol\": \"arp\", \"field\": \"saddr ip\"}}, \"value\": \"192.0.2.11\"}}]}}]}";

    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");
    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.11");

    [Fact]
    public void Parse_ReadsDropAndMangle_AndIgnoresRulesOfOtherShapes()
    {
        var entries = NftArpTable.Parse(Json);

        Assert.Equal(
            [new NftArpEntry(Vip, true, Rip), new NftArpEntry(IPAddress.Parse("203.0.113.101"), true, null)],
            entries);
    }

    [Fact]
    public void Render_ReplacesTheWholeTableInOneScript_AndNoEntriesMeansNoTable()
    {
        var script = NftArpTable.Render([new NftArpEntry(Vip, true, Rip)]);

        Assert.StartsWith("table arp lvsdirect\ndelete table arp lvsdirect\ntable arp lvsdirect {\n", script, StringComparison.Ordinal);
        Assert.Contains("\t\tarp daddr ip 203.0.113.100 drop\n", script, StringComparison.Ordinal);
        Assert.Contains("\t\tarp saddr ip 203.0.113.100 arp saddr ip set 192.0.2.11\n", script, StringComparison.Ordinal);
        Assert.Equal("table arp lvsdirect\ndelete table arp lvsdirect\n", NftArpTable.Render([]));
    }

    [Fact]
    public void NewLvsVip_Nftables_ReplacesTheTableBeforeAddingTheAddress_AndUsesNoArptables()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("New-LvsVip -Address 203.0.113.100 -Method Nftables");

        Assert.Empty(errors);
        Assert.Equal(["nft -f -", "ip -batch -"], runner.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments)));
        Assert.Contains("arp saddr ip 203.0.113.100 arp saddr ip set 192.0.2.11", runner.Changes.First().StandardInput, StringComparison.Ordinal);
        Assert.DoesNotContain(runner.Commands, c => c.Program.StartsWith("arptables", StringComparison.Ordinal));
        var vip = Assert.IsType<LvsVip>(Assert.Single(output).BaseObject);
        Assert.Equal((ArpMethod.Nftables, "192.0.2.11"), (vip.Method!.Value, vip.RealIP!.ToString()));
    }

    [Fact]
    public void NewLvsVip_Nftables_AlreadyInTheTable_ChangesOnlyTheAddress()
    {
        var runner = FakeRunner.Host().On("nft -j list table arp lvsdirect", Json);
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke("New-LvsVip -Address 203.0.113.100 -Method Nftables");

        Assert.Empty(errors);
        Assert.Equal(["ip -batch -"], runner.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments)));
    }

    [Fact]
    public void Planner_RemovingOneVip_KeepsTheOthersInTheTable()
    {
        var state = new LvsDirect.Core.Host.HostInspector(FakeRunner.Host().On("nft -j list table arp lvsdirect", Json)).Read(includeArpRules: false, includeNft: true);
        var desired = new DesiredChange();
        desired.RemoveSuppression.Add(Vip);

        var plan = Planner.Create(state, desired);

        var script = Assert.Single(plan.Steps).Command.StandardInput!;
        Assert.DoesNotContain("203.0.113.100", script, StringComparison.Ordinal);
        Assert.Contains("arp daddr ip 203.0.113.101 drop", script, StringComparison.Ordinal);
    }

    [Fact]
    public void SetArpSuppression_MethodNftables_AddsTheTableBeforeDeletingTheArptablesRules()
    {
        var save = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A INPUT -j ACCEPT -s 192.0.2.99\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";
        var runner = FakeRunner.Host(Listing.FromSaveInOwnChains(save));
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke("Set-ArpSuppression -VirtualIP 203.0.113.100 -Method Nftables");

        Assert.Empty(errors);
        Assert.Equal(
            [
                "nft -f -", "arptables -D LVSDIRECT-IN -d 203.0.113.100 -j DROP", "arptables -D LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "arptables -D INPUT -j LVSDIRECT-IN", "arptables -X LVSDIRECT-IN", "arptables -D OUTPUT -j LVSDIRECT-OUT", "arptables -X LVSDIRECT-OUT",
            ],
            runner.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments)));
    }

    [Fact]
    public void SetArpSuppression_WithoutAnExplicitMethod_ConvertsNothing()
    {
        var runner = FakeRunner.Host().On("nft -j list table arp lvsdirect", Json);
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke("Set-ArpSuppression -VirtualIP 203.0.113.100");

        Assert.Empty(errors);
        Assert.DoesNotContain(runner.Changes, c => c.Program == "nft");
        Assert.DoesNotContain(runner.Commands, c => c.Program == "nft");
    }
}

using System.Net;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Methods;

[Collection(CmdletCollection.Name)]
public sealed class SysctlMethodTests : IDisposable
{
    private const string OnLo = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"lo\"}";
    private const string SecondOnLo = ",{\"family\":\"inet\",\"local\":\"203.0.113.101\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"lo\"}";

    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");

    private readonly string _dir = Directory.CreateTempSubdirectory("lvs-sysctl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "state", "arp-sysctl.json");

    private static string Sysctl(int allIgnore = 0, int allAnnounce = 0, int ethIgnore = 0, int ethAnnounce = 0) =>
        $"net.ipv4.conf.all.arp_announce = {allAnnounce}\nnet.ipv4.conf.all.arp_ignore = {allIgnore}\n"
        + "net.ipv4.conf.default.arp_announce = 0\nnet.ipv4.conf.default.arp_ignore = 0\n"
        + $"net.ipv4.conf.eth0.arp_announce = {ethAnnounce}\nnet.ipv4.conf.eth0.arp_ignore = {ethIgnore}\n"
        + "net.ipv4.conf.lo.arp_announce = 0\nnet.ipv4.conf.lo.arp_ignore = 0\n";

    private static FakeRunner Host(string sysctl, string lo = "") =>
        FakeRunner.Host(extraLoAddrInfo: lo).On(string.Join(' ', ["sysctl", .. ArpSysctls.ReadCommand.Arguments]), sysctl);


    private static IEnumerable<string> Changes(FakeRunner r) =>
        r.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments) + (c.StandardInput is null ? string.Empty : " <<" + c.StandardInput.TrimEnd()));


    [Fact]
    public void Parse_ReadsValues_AndSpellsDottedInterfacesWithASlash()
    {
        var s = ArpSysctls.Parse("net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.eth0/100.arp_announce = 2\nnet.ipv4.conf.eth0.rp_filter = 1\ngarbage\n");

        Assert.Equal(1, s.Get(new SysctlKey("all", "arp_ignore")));
        Assert.Equal(2, s.Get(new SysctlKey("eth0.100", "arp_announce")));
        Assert.Equal("net.ipv4.conf.eth0/100.arp_announce", new SysctlKey("eth0.100", "arp_announce").Name);
        Assert.Equal(0, s.Get(new SysctlKey("eth1", "arp_ignore")));
        Assert.Equal(2, s.Values.Count);
    }

    [Theory]
    [InlineData(1, 2, 0, 0, SuppressionState.Complete)]
    [InlineData(0, 0, 1, 2, SuppressionState.Complete)]
    [InlineData(1, 0, 0, 0, SuppressionState.InputOnly)]
    [InlineData(0, 2, 0, 0, SuppressionState.OutputOnly)]
    [InlineData(0, 1, 0, 0, SuppressionState.None)]
    public void State_UsesTheLargerOfAllAndTheInterface(int allIgnore, int allAnnounce, int ethIgnore, int ethAnnounce, SuppressionState expected)
    {
        var s = ArpSysctls.Parse(Sysctl(allIgnore, allAnnounce, ethIgnore, ethAnnounce));

        Assert.Equal(expected, s.StateOn(["eth0"]));
    }

    [Fact]
    public void Planner_RaisesTheSysctlsBeforeAddingTheVipToLo_AndRecordsTheOldValues()
    {
        var state = new HostInspector(Host(Sysctl(allAnnounce: 1))).Read(includeArpRules: false, includeSysctls: true);
        var desired = new DesiredChange();
        desired.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(Vip, "eth0"));
        desired.EnsureVips.Add(new VipRequest(Vip, 32, "lo"));

        var plan = Planner.Create(state, desired);

        Assert.Equal([StepKind.ChangeArpRules, StepKind.AddAddresses], plan.Steps.Select(s => s.Kind));
        Assert.Equal(
            "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2",
            plan.Steps[0].Command.ToDisplayString());
        Assert.Equal("address add 203.0.113.100/32 dev lo\n", plan.Steps[1].Command.StandardInput);
        Assert.Equal(
            ["net.ipv4.conf.all.arp_ignore 0->1", "net.ipv4.conf.all.arp_announce 1->2", "net.ipv4.conf.eth0.arp_ignore 0->1", "net.ipv4.conf.eth0.arp_announce 0->2"],
            plan.SysctlRecorded.Select(r => $"{r.Key.Name} {r.Previous}->{r.Set}"));
    }

    [Fact]
    public void Planner_NeverLowersAStricterValue_AndRecordsOnlyWhatItChanges()
    {
        var state = new HostInspector(Host(Sysctl(allIgnore: 2, allAnnounce: 2, ethIgnore: 1))).Read(includeArpRules: false, includeSysctls: true);
        var desired = new DesiredChange();
        desired.EnsureSysctlSuppression.Add(new SysctlSuppressionRequest(Vip, "eth0"));

        var plan = Planner.Create(state, desired);

        Assert.Equal("sysctl -w net.ipv4.conf.eth0.arp_announce=2", Assert.Single(plan.Steps).Command.ToDisplayString());
        Assert.Equal("net.ipv4.conf.eth0.arp_announce", Assert.Single(plan.SysctlRecorded).Key.Name);
    }

    [Fact]
    public void Planner_OnTheLastVipLeavingLo_RemovesTheAddressFirst_ThenRestoresOnlyValuesStillAsSet()
    {
        var state = new HostInspector(Host(Sysctl(allIgnore: 1, allAnnounce: 2, ethIgnore: 8, ethAnnounce: 2), OnLo)).Read(includeArpRules: false);
        var desired = new DesiredChange
        {
            RestoreSysctls = true,
            SysctlRecords =
            [
                new SysctlRecord(new SysctlKey("all", "arp_ignore"), 0, 1),
                new SysctlRecord(new SysctlKey("all", "arp_announce"), 1, 2),
                new SysctlRecord(new SysctlKey("eth0", "arp_ignore"), 0, 1),
            ],
        };
        desired.RemoveAddresses.Add(state.LoopbackVipAddresses.Single());

        var plan = Planner.Create(state, desired);

        Assert.Equal([StepKind.RemoveAddresses, StepKind.ChangeArpRules], plan.Steps.Select(s => s.Kind));
        Assert.Equal("sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=1", plan.Steps[1].Command.ToDisplayString());
        Assert.Equal(3, plan.SysctlForgotten.Count);
        Assert.Contains(plan.Changes, c => c.Detail.Contains("net.ipv4.conf.eth0.arp_ignore is 8", StringComparison.Ordinal));
    }

    [Fact]
    public void Planner_KeepsTheSysctls_WhileAnotherAddressStaysOnLo()
    {
        var state = new HostInspector(Host(Sysctl(1, 2), OnLo + SecondOnLo)).Read(includeArpRules: false);
        var desired = new DesiredChange { RestoreSysctls = true, SysctlRecords = [new SysctlRecord(new SysctlKey("all", "arp_ignore"), 0, 1)] };
        desired.RemoveAddresses.Add(state.LoopbackVipAddresses.First());

        var plan = Planner.Create(state, desired);

        Assert.Equal([StepKind.RemoveAddresses], plan.Steps.Select(s => s.Kind));
        Assert.Empty(plan.SysctlForgotten);
    }

    [Fact]
    public void NewLvsVip_Sysctl_SetsSysctlsThenAddsToLo_RecordsTheOldValues_AndReturnsASysctlVip()
    {
        var runner = Host(Sysctl());
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke($"New-LvsVip -Address 203.0.113.100 -Method Sysctl -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(
            [
                "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2",
                "ip -batch - <<address add 203.0.113.100/32 dev lo",
            ],
            Changes(runner));
        Assert.DoesNotContain(runner.Commands, c => c.Program == "arptables");
        var vip = Assert.IsType<LvsVip>(Assert.Single(output).BaseObject);
        Assert.Equal(("lo", ArpMethod.Sysctl, SuppressionState.Complete), (vip.InterfaceName, vip.Method!.Value, vip.ArpSuppression));
        Assert.Null(vip.RealIP);
        Assert.Equal(4, SysctlStateFile.Load(StatePath).Count(r => r.Previous == 0));
    }

    [Fact]
    public void NewLvsVip_Sysctl_WhatIf_WritesNoRecord_AndRunsNothing()
    {
        var runner = Host(Sysctl());
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke($"New-LvsVip -Address 203.0.113.100 -Method Sysctl -SysctlStatePath '{StatePath}' -WhatIf");

        Assert.Empty(errors);
        Assert.Empty(output);
        Assert.Empty(runner.Changes);
        Assert.False(File.Exists(StatePath));
    }

    [Theory]
    [InlineData("New-LvsVip -Address 203.0.113.0/24 -Method Sysctl", "InvalidPrefix")]
    [InlineData("New-LvsVip -Address 203.0.113.100 -Method Sysctl -Label eth0:1", "InvalidArgument")]
    [InlineData("New-LvsVip -Address 203.0.113.100 -Method Sysctl -InterfaceName nosuch0", "UnknownInterface")]
    public void NewLvsVip_Sysctl_BadInput_FailsAndChangesNothing(string script, string errorId)
    {
        var runner = Host(Sysctl());
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing(script + $" -SysctlStatePath '{StatePath}'");

        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
        Assert.False(File.Exists(StatePath));
    }

    [Fact]
    public void RemoveLvsVip_LastVipOnLo_RestoresTheRecordedValues_AndForgetsThem()
    {
        SysctlStateFile.Save(StatePath, [new SysctlRecord(new SysctlKey("all", "arp_ignore"), 0, 1), new SysctlRecord(new SysctlKey("all", "arp_announce"), 0, 2)]);
        var runner = Host(Sysctl(1, 2), OnLo);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100"]);

        var (_, errors, _) = host.Invoke($"Remove-LvsVip -Address 203.0.113.100 -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(
            ["ip -batch - <<address del 203.0.113.100/32 dev lo", "sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0"],
            Changes(runner));
        Assert.False(File.Exists(StatePath));
    }

    [Fact]
    public void GetLvsVip_ListsTheVipOnLo_AsSuppressedBySysctl()
    {
        var runner = Host(Sysctl(1, 2), OnLo);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100"]);

        var (output, errors, _) = host.Invoke("Get-LvsVip");

        Assert.Empty(errors);
        var vip = Assert.IsType<LvsVip>(Assert.Single(output).BaseObject);
        Assert.Equal(("203.0.113.100", "lo", ArpMethod.Sysctl, SuppressionState.Complete, true), (vip.Address.ToString(), vip.InterfaceName, vip.Method!.Value, vip.ArpSuppression, vip.IsVip));
    }

    [Fact]
    public void GetLvsVip_AnAddressOnLoWithoutTheSysctls_IsNoVip()
    {
        var runner = Host(Sysctl(), OnLo);
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("Get-LvsVip");

        Assert.Empty(errors);
        Assert.Empty(output);
    }

    [Fact]
    public void RcLocal_PutsTheSysctlsBeforeTheAddresses()
    {
        var block = RcLocal.RenderBlock(
            new ArptablesDialect(ArptablesFlavor.Nft),
            [new RcVip(Vip, 32, "lo", null, null, null)],
            ArpSysctls.Persisted(ArpSysctls.Parse(Sysctl(allIgnore: 2)), "eth0"));

        var sysctl = block.ToList().FindIndex(l => l.StartsWith("sysctl ", StringComparison.Ordinal));
        var address = block.ToList().FindIndex(l => l.StartsWith("[ \"$lvsdirect_sysctl\" = no ] || ip addr replace 203.0.113.100/32 dev lo", StringComparison.Ordinal));
        Assert.InRange(sysctl, 0, address - 1);
        Assert.Equal("sysctl -q -w net.ipv4.conf.all.arp_ignore=2 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 || lvsdirect_sysctl=no", block[sysctl]);
        Assert.DoesNotContain(block, l => l.Contains("arptables", StringComparison.Ordinal));
    }

    [Fact]
    public void StateFile_Damaged_IsAParseError()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        File.WriteAllText(StatePath, "{ not json");

        var ex = Assert.Throws<LvsDirect.Core.Errors.LvsException>(() => SysctlStateFile.Load(StatePath));

        Assert.Equal(LvsDirect.Core.Errors.LvsErrorKind.ParseError, ex.Kind);
    }
}

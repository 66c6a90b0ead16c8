using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Planning;

/// <summary>New-LvsVip's use case without PowerShell: the plan and the objects it predicts from one reading.</summary>
public class VipAdditionTests
{
    private static HostState State() => new HostInspector(FakeRunner.Host()).Read(includeArpRules: true, CancellationToken.None);

    private static NewVipRequest Request(string address, string? label = null) => new(address, null, label, null, null, ArpMethod.Arptables);

    [Fact]
    public void TheOutput_IsWhatTheHostHoldsOnceThePlanHasRun_OneObjectPerVip_WithoutTheRefusedOnes()
    {
        var addition = VipAddition.Validate([Request("203.0.113.100"), Request("203.0.113.100"), Request("192.0.2.254")], suppress: true);

        var planned = addition.Plan(State(), Ownership.None, adopt: false, []);

        Assert.Equal(IPAddress.Parse("192.0.2.254"), Assert.Single(planned.Plan.Rejected).Vip);
        var vip = Assert.Single(planned.Output);
        Assert.Equal(("203.0.113.100", 32, "eth0", "192.0.2.11", SuppressionState.Complete, true), (vip.Address.ToString(), vip.PrefixLength, vip.InterfaceName, vip.RealIP?.ToString(), vip.ArpSuppression, vip.Managed));
        Assert.Equal(new Core.Persistence.ManagedVip(IPAddress.Parse("203.0.113.100"), 32, "eth0"), Assert.Single(planned.Added));
        Assert.Contains(planned.Plan.Steps, s => s.Kind == StepKind.AddAddresses && s.Command.StandardInput == "address add 203.0.113.100/32 dev eth0\n");
    }

    [Fact]
    public void WhatCannotWork_IsRefusedBeforeAnyHostIsRead()
    {
        var sysctl = Assert.ThrowsAny<LvsException>(() => VipAddition.Validate([new NewVipRequest("203.0.113.0/28", null, null, null, null, ArpMethod.Sysctl)], suppress: true));
        var broadcast = Assert.ThrowsAny<LvsException>(() => VipAddition.Validate([new NewVipRequest("2001:db8::1", null, null, "192.0.2.255", null, ArpMethod.Arptables)], suppress: true));

        Assert.Equal(LvsErrorKind.InvalidPrefix, sysctl.Kind);
        Assert.Equal(LvsErrorKind.InvalidArgument, broadcast.Kind);
    }

    [Fact]
    public void WithoutSuppression_NoRulesAreRead_OrPlanned()
    {
        var addition = VipAddition.Validate([Request("203.0.113.100")], suppress: false);

        var planned = addition.Plan(State(), Ownership.None, adopt: false, []);

        Assert.False(addition.ReadsArpRules);
        Assert.Equal(StepKind.AddAddresses, Assert.Single(planned.Plan.Steps).Kind);
        Assert.False(Assert.Single(planned.Output).IsVip);
    }
}

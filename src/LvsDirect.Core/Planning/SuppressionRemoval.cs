using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Planning;

/// <summary>What removing VIPs' ARP suppression comes to on one host.</summary>
/// <param name="Output">The suppression the plan removes, as it was.</param>
/// <param name="Errors">VIPs refused one by one (the others go on).</param>
public sealed record SuppressionRemovalPlan(Plan Plan, IReadOnlyList<ArpSuppressionRule> Output, IReadOnlyList<LvsException> Errors);

/// <summary>Remove-ArpSuppression as a use case: exactly the suppression of the given VIPs, never of one still configured unless forced.</summary>
public static class SuppressionRemoval
{
    public static SuppressionRemovalPlan Plan(HostState state, IReadOnlyCollection<IPAddress> vips, bool force, IReadOnlyList<SysctlRecord> sysctlRecords)
    {
        var desired = new DesiredChange { SysctlRecords = sysctlRecords };
        var errors = new List<LvsException>();
        foreach (var vip in vips.Distinct())
        {
            var holder = state.FindAddress(vip).FirstOrDefault();
            if (holder is not null && !force)
            {
                errors.Add(new LvsException(LvsErrorKind.VipStillConfigured,
                    $"{vip} is still configured on {holder.InterfaceName}; without suppression this host would answer ARP for it. Remove the VIP first (Remove-LvsVip -Address {vip}), or use -Force.",
                    vip.ToString()));
                continue;
            }

            desired.RemoveSuppression.Add(vip);

            // A VIP without arptables rules is one of the sysctl method's; the settings go once none is left on lo.
            desired.RestoreSysctls |= !state.InputRulesFor(vip).Any() && !state.OutputRulesFor(vip).Any() && state.NftEntryFor(vip) is null;
        }

        var before = SuppressionListing.List(state).Where(r => desired.RemoveSuppression.Contains(r.VirtualIP)).ToList();
        return new SuppressionRemovalPlan(Planner.Create(state, desired), before, errors);
    }
}

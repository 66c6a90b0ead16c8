using System.Management.Automation;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Commands;

/// <summary>
/// Parses the live arptables rule set into one object per suppressed VIP, and reports the VIPs on lo that the
/// ARP sysctls suppress.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ArpSuppression")]
[OutputType(typeof(ArpSuppressionRule))]
public sealed class GetArpSuppressionCommand : LvsCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[]? VirtualIP { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        DemandRoot();
        var filter = VirtualIP?.Select(a => InputValidation.ParseCidr(a).Address).ToHashSet();
        var state = ReadState(includeArpRules: true);
        foreach (var rule in List(state))
        {
            if (filter is null || filter.Contains(rule.VirtualIP))
            {
                WriteObject(rule);
            }
        }
    });

    internal static IEnumerable<ArpSuppressionRule> List(HostState state)
    {
        var dialect = state.RequireDialect();
        foreach (var vip in state.SuppressedAddresses())
        {
            if (state.MethodFor(vip) == ArpMethod.Sysctl)
            {
                yield return new ArpSuppressionRule
                {
                    VirtualIP = vip,
                    Method = ArpMethod.Sysctl,
                    State = state.SuppressionFor(vip),
                    Rules = state.Sysctls!.Describe(SysctlKey.For(state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all")),
                };
                continue;
            }

            var rules = state.InputRulesFor(vip).Concat(state.OutputRulesFor(vip)).ToList();
            yield return new ArpSuppressionRule
            {
                VirtualIP = vip,
                RealIP = GetLvsVipCommand.RealIPOf(state, vip),
                Flavor = dialect.Flavor,
                State = state.SuppressionFor(vip),
                Rules = rules.Select(r => r.RawLine).ToList(),
            };
        }
    }
}

using System.Management.Automation;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Persists the live ARP rules the way the host expects: arptables-save format in /etc/sysconfig/arptables
/// and the arptables (or arptables_jf) service enabled, like `service arptables_jf save` + `chkconfig … on`.
/// With -Method Sysctl, the ARP sysctls of the VIPs on lo go to a file of LvsDirect's own in /etc/sysctl.d.
/// </summary>
[Cmdlet(VerbsData.Save, "ArpSuppression", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ArpSuppressionSaveResult))]
public sealed class SaveArpSuppressionCommand : LvsCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>
    /// Arptables (the rules), Sysctl (arp_ignore/arp_announce, to /etc/sysctl.d/90-lvsdirect-arp.conf) or
    /// Nftables (the table arp lvsdirect, to /etc/lvsdirect/arp.nft, included from the host's nftables config).
    /// </summary>
    [Parameter]
    public ArpMethod Method { get; set; } = ArpMethod.Arptables;

    /// <summary>For -Method Nftables: the host's nftables configuration that gets the include line.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        string? Given(string? p) => p is null ? null : GetUnresolvedProviderPathFromPSPath(p);
        IPersistenceTarget target = Method switch
        {
            ArpMethod.Sysctl => new SysctlConfTarget(Given(Path)),
            ArpMethod.Nftables => new NftTarget(Given(Path), Given(ConfigPath), manageService: Path is null && ConfigPath is null),
            _ => new SavedArpRulesTarget(Given(Path)),
        };

        var result = WithHostLock(() =>
        {
            var state = Method switch
            {
                ArpMethod.Sysctl => ReadState(includeArpRules: false, includeSysctls: true),
                ArpMethod.Nftables => new Core.Host.HostInspector(Runner).Read(includeArpRules: false, CancellationToken, includeNft: true),
                _ => ReadState(includeArpRules: true),
            };
            var item = target.Plan(new PersistenceInput { State = state, Boot = BootCommands.Empty }, LocalHost);
            var applied = PersistenceRun.Apply(this, Runner, item, "Save ARP suppression", out var enabled, CancellationToken);
            return item.Skipped
                ? null
                : new ArpSuppressionSaveResult
                {
                    Path = item.Path,
                    RuleCount = item.Count,
                    Service = Method == ArpMethod.Nftables && !enabled ? null : item.Service,
                    ServiceEnabled = enabled,
                    Changed = applied && item.Changed,
                };
        });

        if (result is not null)
        {
            WriteObject(result);
        }
    });
}

using System.Management.Automation;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// Adds VIPs to an interface, with their ARP suppression put in place first. All addresses of one call (and
/// of a whole pipeline) are applied as one batch in EndProcessing.
/// </summary>
[Cmdlet(VerbsCommon.New, "LvsVip", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LvsVip))]
public sealed class NewLvsVipCommand : LvsCmdlet
{
    private readonly List<NewVipRequest> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualIP")]
    [ValidateNotNullOrEmpty]
    public string[] Address { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? Label { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? Broadcast { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? RealIP { get; set; }

    /// <summary>On unless -ArpSuppression:$false: a VIP without suppression steals the director's traffic.</summary>
    [Parameter]
    public SwitchParameter ArpSuppression { get; set; } = new(true);

    /// <summary>
    /// Arptables (the VIP on the interface, two rules per VIP) or Sysctl (the VIP on lo as /32, arp_ignore and
    /// arp_announce on all and on -InterfaceName, which then names the interface facing the director).
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public ArpMethod? Method { get; set; }

    /// <summary>
    /// Takes over a VIP that is already configured but that LvsDirect did not create (set up by hand or by
    /// another tool): it is recorded as managed, and its rules in the built-in chains become LvsDirect's.
    /// Without it such a VIP is refused (NotManaged).
    /// </summary>
    [Parameter]
    public SwitchParameter Adopt { get; set; }

    /// <summary>Where the sysctl method records the values it replaces (default: see about_LvsDirect).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var a in Address)
        {
            _requests.Add(new NewVipRequest(a, Optional(InterfaceName), Optional(Label), Optional(Broadcast), Optional(RealIP), Method ?? ArpMethod.Arptables));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var addition = VipAddition.Validate(_requests, ArpSuppression.IsPresent);
        var statePath = addition.UsesSysctls ? SysctlStatePathOrDefault(SysctlStatePath) : null;
        var results = WithHostLock(() =>
        {
            var (state, ownership) = ReadStateAndOwnership(() =>
                new HostInspector(Runner).Read(addition.ReadsArpRules, CancellationToken, includeSysctls: addition.ReadsSysctls, includeNft: addition.ReadsNft));
            var planned = addition.Plan(state, ownership, Adopt.IsPresent, statePath is null ? [] : SysctlStateFile.Load(statePath));
            planned.Notes.ToList().ForEach(WriteVerbose);
            WriteChanges(planned.Plan.Changes);

            if (!ConfirmAdoption(planned.Adopted))
            {
                return [];
            }

            return ExecuteOwnedPlan(planned.Plan, statePath, ownership, state, planned.Added, []) ? planned.Output : [];
        });

        foreach (var vip in results)
        {
            WriteObject(vip);
        }
    });
}

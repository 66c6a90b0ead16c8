using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>Removes VIPs: the address first, then (unless -KeepArpSuppression) its suppression rules.</summary>
[Cmdlet(VerbsCommon.Remove, "LvsVip", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LvsVip))]
public sealed class RemoveLvsVipCommand : LvsCmdlet
{
    private readonly List<RemoveVipRequest> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualIP")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[] Address { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    /// <summary>
    /// The VIP's prefix length when -Address has none (Get-LvsVip's objects bind it); else /32 (/128 for IPv6).
    /// Only an address with exactly this prefix is removed.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 128)]
    public int? PrefixLength { get; set; }

    [Parameter]
    public SwitchParameter KeepArpSuppression { get; set; }

    /// <summary>
    /// Accepted so that existing scripts keep working; it removes nothing more. The host's own addresses (an
    /// interface's primary or subnet address) are never removed, with or without it.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// Removes a VIP that LvsDirect did not create (set up by hand or by another tool), with its rules in the
    /// built-in chains, by adopting it first. Without it such a VIP is refused (NotManaged).
    /// </summary>
    [Parameter]
    public SwitchParameter Adopt { get; set; }

    /// <summary>Where the sysctl method recorded the values it replaced; they are restored when the last VIP leaves lo.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var a in Address)
        {
            _requests.Add(new RemoveVipRequest(a, Optional(InterfaceName), PrefixLength));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var removal = VipRemoval.Validate(_requests);
        var statePath = SysctlStatePathOrDefault(SysctlStatePath);
        var removed = WithHostLock(() =>
        {
            var (state, ownership) = ReadStateAndOwnership(() => ReadSuppressionState());
            var planned = removal.Plan(state, ownership, KeepArpSuppression.IsPresent, Adopt.IsPresent, SysctlStateFile.Load(statePath));
            planned.Errors.ToList().ForEach(WriteLvsError);
            planned.Notes.ToList().ForEach(WriteVerbose);
            planned.Warnings.ToList().ForEach(WriteWarning);
            WriteChanges(planned.Plan.Changes);

            if (!ConfirmAdoption(planned.Adopted))
            {
                return [];
            }

            return ExecuteOwnedPlan(planned.Plan, statePath, ownership, state, [], planned.Forgotten) ? planned.Output : [];
        });

        if (PassThru.IsPresent)
        {
            WriteObject(removed, enumerateCollection: true);
        }
    });
}

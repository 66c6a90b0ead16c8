using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// Removes exactly the suppression rules of the given VIPs. Refuses (per VIP) while the VIP is still on an
/// interface, because the host would then answer ARP for it and take the director's traffic.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ArpSuppression", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ArpSuppressionRule))]
public sealed class RemoveArpSuppressionCommand : LvsCmdlet
{
    private readonly List<string> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[] VirtualIP { get; set; } = [];

    /// <summary>Removes the rules even though the VIP is still configured.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Where the sysctl method recorded the values it replaced; they are restored when no VIP is left on lo.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SysctlStatePath { get; set; }

    protected override void ProcessRecord() => _requests.AddRange(VirtualIP);

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var vips = _requests.Select(v => InputValidation.ParseCidr(v).Address).Distinct().ToList();
        var statePath = SysctlStatePathOrDefault(SysctlStatePath);
        var removed = WithHostLock(() =>
        {
            var state = ReadSuppressionState(includeSysctls: true);
            var planned = SuppressionRemoval.Plan(state, vips, Force.IsPresent, SysctlStateFile.Load(statePath));
            planned.Errors.ToList().ForEach(WriteLvsError);
            return ExecutePlan(planned.Plan, statePath) ? planned.Output : [];
        });

        if (PassThru.IsPresent)
        {
            WriteObject(removed, enumerateCollection: true);
        }
    });
}

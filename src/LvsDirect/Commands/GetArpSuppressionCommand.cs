using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

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
        var state = ReadSuppressionState();
        foreach (var rule in SuppressionListing.List(state))
        {
            if (filter is null || filter.Contains(rule.VirtualIP))
            {
                WriteObject(rule);
            }
        }
    });
}

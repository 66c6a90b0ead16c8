using System.Management.Automation;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// Lists the VIPs LvsDirect manages on this host (its ownership record, see <see cref="Ownership"/>); with -All
/// every address, each with Managed. A VIP set up by hand looks exactly like one LvsDirect made, so only the
/// record tells them apart: it is listed with -All, Managed false, until it is adopted.
/// </summary>
[Cmdlet(VerbsCommon.Get, "LvsVip", DefaultParameterSetName = LocalSet)]
[OutputType(typeof(LvsVip))]
public sealed partial class GetLvsVipCommand : LvsRemoteCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualIP")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[]? Address { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    /// <summary>Every address, not just VIPs.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        var filter = Address?.Select(a => InputValidation.ParseVipCidr(a).Address).ToHashSet();
        if (ParameterSetName == HostSet)
        {
            ListRemote(filter);
            return;
        }

        var canReadRules = IsRoot();
        if (!canReadRules)
        {
            WriteWarning("Not running as root: the ARP rules and LvsDirect's ownership record cannot be read, so every address is listed, with ArpSuppression Unknown and Managed false.");
        }

        var state = canReadRules ? ReadSuppressionState() : ReadState(false);
        var ownership = canReadRules ? ReadOwnership() : Ownership.None;
        var interfaceName = Optional(InterfaceName);
        if (interfaceName is not null)
        {
            state.RequireInterface(interfaceName);
        }

        foreach (var vip in VipListing.List(state, All.IsPresent || !canReadRules, ownership))
        {
            if ((filter is null || filter.Contains(vip.Address)) && (interfaceName is null || vip.InterfaceName == interfaceName))
            {
                WriteObject(vip);
            }
        }
    });
}

using System.Management.Automation;
using LvsDirect.Core.Model;
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
    private readonly List<(string Address, string? InterfaceName, string? Label, string? Broadcast, string? RealIP)> _requests = [];

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

    protected override void ProcessRecord()
    {
        foreach (var a in Address)
        {
            _requests.Add((a, Optional(InterfaceName), Optional(Label), Optional(Broadcast), Optional(RealIP)));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => (Request: r, Cidr: InputValidation.ParseCidr(r.Address))).ToList();
        foreach (var p in parsed.Where(p => p.Request.Broadcast is not null))
        {
            InputValidation.ParseIPv4(p.Request.Broadcast, "broadcast address");
        }

        var results = WithHostLock(() =>
        {
            var state = ReadState(ArpSuppression.IsPresent);
            var desired = new DesiredChange();
            var output = new List<LvsVip>();
            foreach (var (r, (address, prefix)) in parsed)
            {
                var iface = Resolve.Interface(state, r.InterfaceName);
                var label = r.Label is null ? null : InputValidation.ValidateLabel(r.Label, iface.Name);
                var broadcast = r.Broadcast is null ? null : InputValidation.ParseIPv4(r.Broadcast, "broadcast address");
                var realIp = ArpSuppression.IsPresent ? Resolve.RealIP(state, address, iface.Name, r.RealIP) : null;
                if (realIp is not null)
                {
                    desired.EnsureSuppression.Add(new SuppressionRequest(address, realIp));
                }

                desired.EnsureVips.Add(new VipRequest(address, prefix, iface.Name, label, broadcast));
                output.Add(new LvsVip
                {
                    Address = address,
                    PrefixLength = prefix,
                    InterfaceName = iface.Name,
                    Label = label ?? state.FindAddress(address).FirstOrDefault(a => a.InterfaceName == iface.Name)?.AliasLabel,
                    Broadcast = broadcast,
                    ArpSuppression = realIp is null ? state.SuppressionFor(address) : SuppressionState.Complete,
                    RealIP = realIp,
                    IsVip = realIp is not null,
                });
            }

            var plan = Planner.Create(state, desired);
            foreach (var c in plan.Changes)
            {
                WriteVerbose($"{c.Subject} {c.Address}: {c.Kind} ({c.Detail})");
            }

            var rejected = plan.Rejected.Select(e => e.Target as string).ToHashSet();
            return ExecutePlan(plan) ? output.Where(o => !rejected.Contains(o.Address.ToString())).ToList() : [];
        });

        foreach (var vip in results)
        {
            WriteObject(vip);
        }
    });
}

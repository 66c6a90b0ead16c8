using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// The iptables REDIRECT method: packets for VIP:port are handed to a local listener, so the VIP need not be on
/// the host at all and there is nothing to hide from ARP. All rules of one call (and pipeline) form one plan.
/// </summary>
[Cmdlet(VerbsCommon.New, "LvsRedirect", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LvsRedirect))]
public sealed class NewLvsRedirectCommand : LvsCmdlet
{
    private readonly List<(string Vip, int Port, RedirectProtocol Protocol)> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    public string[] VirtualIP { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int[] Port { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public RedirectProtocol Protocol { get; set; } = RedirectProtocol.Tcp;

    protected override void ProcessRecord()
    {
        foreach (var v in VirtualIP)
        {
            _requests.AddRange(Port.Select(p => (v, p, Protocol)));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var wanted = _requests.Select(r => (VirtualIP: VipValidation.RequireClass(RedirectListing.ParseVip(r.Vip)), r.Protocol, r.Port)).Distinct().ToList();
        var done = WithHostLock(() =>
        {
            var current = new Core.Host.HostInspector(Runner).ReadRedirects(CancellationToken);
            var plan = RedirectPlanner.Create(current, wanted, []);
            WriteChanges(plan.Changes);

            return ExecutePlan(plan);
        });

        if (done)
        {
            foreach (var (vip, protocol, port) in wanted)
            {
                WriteObject(RedirectListing.ToOutput(vip, protocol, port));
            }
        }
    });
}

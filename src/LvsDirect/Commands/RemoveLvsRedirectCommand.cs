using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>
/// Removes LvsDirect's REDIRECT rules for the given VIPs (all their ports and protocols unless -Port or
/// -Protocol narrow it). Rules without LvsDirect's comment are never touched, even if they look the same.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "LvsRedirect", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LvsRedirect))]
public sealed class RemoveLvsRedirectCommand : LvsCmdlet
{
    private readonly List<(string Vip, int[]? Ports, RedirectProtocol? Protocol)> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    public string[] VirtualIP { get; set; } = [];

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int[]? Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public RedirectProtocol? Protocol { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var v in VirtualIP)
        {
            _requests.Add((v, Port, Protocol));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => new RedirectSelector(RedirectListing.ParseVip(r.Vip), r.Ports, r.Protocol)).ToList();
        var removed = WithHostLock(() =>
        {
            var current = new Core.Host.HostInspector(Runner).ReadRedirects(CancellationToken);
            var matches = RedirectListing.Select(current, parsed);
            foreach (var p in parsed.Where(p => !current.Any(r => r.VirtualIP.Equals(p.VirtualIP))))
            {
                WriteVerbose($"{p.VirtualIP} has no REDIRECT rule of LvsDirect.");
            }

            var plan = RedirectPlanner.Create(current, [], matches.Select(m => m.Key));
            WriteChanges(plan.Changes);

            return ExecutePlan(plan) ? matches.Select(RedirectListing.ToOutput).ToList() : [];
        });

        if (PassThru.IsPresent)
        {
            WriteObject(removed, enumerateCollection: true);
        }
    });
}

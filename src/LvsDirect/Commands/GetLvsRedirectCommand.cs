using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>Lists the REDIRECT rules LvsDirect owns (those with its comment); foreign rules are never listed.</summary>
[Cmdlet(VerbsCommon.Get, "LvsRedirect")]
[OutputType(typeof(LvsRedirect))]
public sealed class GetLvsRedirectCommand : LvsCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    public string[]? VirtualIP { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int[]? Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public RedirectProtocol? Protocol { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        DemandRoot();
        var selector = new RedirectSelector(null, Port, Protocol);
        var vips = VirtualIP?.Select(RedirectListing.ParseVip).Select(v => selector with { VirtualIP = v }).ToList() ?? [selector];
        foreach (var r in RedirectListing.Select(new Core.Host.HostInspector(Runner).ReadRedirects(CancellationToken), vips))
        {
            WriteObject(RedirectListing.ToOutput(r));
        }
    });
}

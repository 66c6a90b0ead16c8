using System.Management.Automation;
using LvsDirect.Core.Model;

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
        var vips = NewLvsRedirectCommand.ParseFilter(VirtualIP);
        foreach (var r in NewLvsRedirectCommand.ReadRedirects(Runner, CancellationToken))
        {
            if ((vips is null || vips.Contains(r.VirtualIP)) && (Port is null || Port.Contains(r.Port)) && (Protocol is null || Protocol == r.Protocol))
            {
                WriteObject(NewLvsRedirectCommand.ToOutput(r));
            }
        }
    });
}

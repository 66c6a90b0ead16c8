using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Asks the segment who answers ARP for a VIP, as admins do by hand with arping, and flags the ARP problem: any
/// answer but the director's. Run it from a client or the director, not from a real server that holds the VIP.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "LvsArp")]
[OutputType(typeof(ArpResponder), typeof(bool))]
public sealed class TestLvsArpCommand : LvsCmdlet
{
    private bool _allSingle = true;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    public string[] VirtualIP { get; set; } = [];

    /// <summary>The interface to probe on; by default the one the route to the VIP leaves by.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    /// <summary>How many broadcast ARP requests to send.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int Count { get; set; } = 3;

    /// <summary>Seconds to wait for replies in all.</summary>
    [Parameter]
    [ValidateRange(1, 300)]
    public int Timeout { get; set; } = 3;

    /// <summary>Return only $true (every VIP has exactly one responder) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        if (ToolLocator.TryResolve("arping") is null)
        {
            throw new LvsException(LvsErrorKind.ProgramNotFound,
                $"Test-LvsArp needs arping from iputils to send ARP requests. Install the '{ToolLocator.PackageFor("arping")}' package (Debian, Ubuntu: apt-get install {ToolLocator.PackageFor("arping")}; RHEL, Fedora: dnf install iputils).",
                "arping");
        }

        foreach (var text in VirtualIP)
        {
            var vip = InputValidation.ParseIPv4(text, "virtual IP");
            var iface = InterfaceName is null ? RouteInterface(vip) : InputValidation.ValidateInterfaceName(InterfaceName);
            var result = Runner.Run(ArpingOutput.Command(vip, iface, Count, Timeout), CancellationToken);
            // arping exits 1 when some probe went unanswered even though replies came; only higher codes are errors.
            if (result.ExitCode > 1)
            {
                throw ProcessRunnerExtensions.CommandFailed(result);
            }

            var replies = ArpingOutput.ParseReplies(result.StandardOutput).Where(r => r.Address.Equals(vip)).ToList();
            var macs = replies.GroupBy(r => r.MacAddress).ToList();
            if (macs.Count != 1)
            {
                _allSingle = false;
            }

            if (macs.Count == 0)
            {
                if (!Quiet)
                {
                    WriteLvsError(new LvsException(LvsErrorKind.NoArpReply,
                        $"Nobody answered ARP for {vip} on {iface} ({Count} request(s), {Timeout} s): the director does not hold the VIP, or {iface} is not on its segment.",
                        vip.ToString()));
                }

                continue;
            }

            var neighbours = ReadNeighbours(iface);
            foreach (var mac in macs)
            {
                var responder = new ArpResponder
                {
                    VirtualIP = vip,
                    MacAddress = mac.Key,
                    OwnerAddress = neighbours[mac.Key].Where(a => !a.Equals(vip)).Distinct().ToList(),
                    InterfaceName = iface,
                    Replies = mac.Count(),
                    ResponderCount = macs.Count,
                    Status = macs.Count == 1 ? CheckStatus.Pass : CheckStatus.Fail,
                };
                if (!Quiet)
                {
                    WriteObject(responder);
                }
            }

            if (macs.Count > 1 && !Quiet)
            {
                WriteWarning($"{macs.Count} hosts answer ARP for {vip} ({string.Join(", ", macs.Select(m => m.Key))}): all but the director take its traffic. Run Test-LvsRealServer on the real server that owns each extra MAC, or Set-ArpSuppression -VirtualIP {vip} there.");
            }
        }
    });

    protected override void EndProcessing()
    {
        if (Quiet)
        {
            WriteObject(_allSingle);
        }
    }

    private string RouteInterface(IPAddress vip)
    {
        var route = Runner.RunChecked(ToolCommand.Create("ip", "-j", "route", "get", vip.ToString()), CancellationToken);
        var dev = ArpingOutput.ParseRouteDevice(route.StandardOutput)
                  ?? throw new LvsException(LvsErrorKind.UnknownInterface, $"No route to {vip}: give -InterfaceName.", vip.ToString());
        if (dev == "lo")
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                $"{vip} is an address of this host: run Test-LvsArp from a client or the director, or give -InterfaceName.", vip.ToString());
        }

        return dev;
    }

    /// <summary>Best effort: the neighbour table only knows hosts this one has talked to.</summary>
    private ILookup<string, IPAddress> ReadNeighbours(string iface)
    {
        var r = Runner.Run(ToolCommand.Create("ip", "-j", "neigh", "show", "dev", iface), CancellationToken);
        return r.Succeeded ? ArpingOutput.ParseNeighbours(r.StandardOutput) : Array.Empty<(string, IPAddress)>().ToLookup(p => p.Item1, p => p.Item2);
    }
}

using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Asks the segment who answers ARP for a VIP, as admins do by hand with arping, and flags the ARP problem: any
/// answer but the director's. Named with -DirectorAddress or -DirectorMacAddress, the director's reply passes and
/// every other responder fails, named by its address where this host's neighbour table knows its MAC. Run it from a client or the director, not from a real server that holds the VIP.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "LvsArp")]
[OutputType(typeof(ArpResponder), typeof(bool))]
public sealed class TestLvsArpCommand : LvsCmdlet
{
    private readonly Dictionary<string, string> _directorMacs = [];
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

    /// <summary>The director's own address on the segment: its reply is then a Pass and every other responder a Fail.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DirectorAddress { get; set; }

    /// <summary>The director's MAC address, for when its address is not known or it does not answer ARP for it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DirectorMacAddress { get; set; }

    /// <summary>Return only $true (every VIP has exactly one responder, the director when it is named) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        if (Runner.Locate("arping") is null)
        {
            throw new LvsException(LvsErrorKind.ProgramNotFound,
                $"Test-LvsArp needs arping from iputils to send ARP requests. Install the '{ToolLocator.PackageFor("arping")}' package (Debian, Ubuntu: apt-get install {ToolLocator.PackageFor("arping")}; RHEL, Fedora: dnf install iputils).",
                "arping");
        }

        var directorMac = DirectorMacAddress is null ? null : ParseMac(DirectorMacAddress);
        var directorAddress = DirectorAddress is null ? null : InputValidation.ParseIPv4(DirectorAddress, "director address");
        var vips = VirtualIP.Select(t => InputValidation.ParseIPv4(t, "virtual IP")).ToList();
        if (directorAddress is not null && vips.Contains(directorAddress))
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                $"-DirectorAddress {directorAddress} is a VIP: give the director's own address on the segment (its DIP), whose MAC tells the director's reply from the others.",
                directorAddress.ToString());
        }

        foreach (var vip in vips)
        {
            var iface = InterfaceName is null ? RouteInterface(vip) : InputValidation.ValidateInterfaceName(InterfaceName);
            var macs = Probe(vip, iface, Count, Timeout).GroupBy(r => r.MacAddress).ToList();
            var neighbours = macs.Count == 0 ? null : ReadNeighbours(iface);
            var director = directorMac ?? (directorAddress is null || macs.Count == 0 ? null : DirectorMac(directorAddress, iface));
            if (macs.Count != 1 || (director is not null && macs[0].Key != director))
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

            var responders = macs.Select(mac =>
            {
                var owners = neighbours![mac.Key].Where(a => !a.Equals(vip)).ToList();
                if (mac.Key == director && directorAddress is not null)
                {
                    owners.Insert(0, directorAddress);
                }

                return Judge(vip, iface, mac.Key, owners.Distinct().ToList(), mac.Count(), macs.Count, director, directorHeard: macs.Any(m => m.Key == director));
            }).ToList();
            if (Quiet)
            {
                continue;
            }

            WriteObject(responders, enumerateCollection: true);
            var culprits = responders.Where(r => r.IsDirector != true).ToList();
            if (macs.Count > 1)
            {
                var named = director is null
                    ? $"({string.Join(", ", macs.Select(m => m.Key))}): all but the director take its traffic. Give -DirectorAddress to tell the director from the others"
                    : $"and not only the director: {string.Join(", ", culprits.Select(r => Name(r.OwnerAddress, r.MacAddress)))} take its traffic. Run Set-ArpSuppression -VirtualIP {vip} there";
                WriteWarning($"{macs.Count} hosts answer ARP for {vip} {named}.");
            }
        }
    });

    /// <summary>Pass or Fail for one responder, with the words that say why and what to run where.</summary>
    private static ArpResponder Judge(IPAddress vip, string iface, string mac, List<IPAddress> owners, int replies, int responders, string? director, bool directorHeard)
    {
        var who = Name(owners, mac);
        var (status, isDirector, detail, remediation) = (director, mac == director) switch
        {
            (null, _) when responders == 1 => (CheckStatus.Pass, (bool?)null,
                $"Only {who} answers ARP for {vip}. Give -DirectorAddress to check that it is the director.", (string?)null),
            (null, _) => (CheckStatus.Fail, null,
                $"{responders} hosts answer ARP for {vip}, {who} among them; all but the director take its traffic. Give -DirectorAddress to tell which one is the director.",
                $"Test-LvsArp -VirtualIP {vip} -DirectorAddress <the director's address>, then Set-ArpSuppression -VirtualIP {vip} on every other host that answers."),
            (_, true) => (CheckStatus.Pass, true,
                responders == 1 ? $"Only the director, {who}, answers ARP for {vip}." : $"The director, {who}, answers ARP for {vip}; the other replies are not its.", null),
            _ => (CheckStatus.Fail, false,
                $"{who} answers ARP for {vip} but is not the director: clients that learn its MAC send it the director's traffic."
                + (directorHeard ? string.Empty : $" The director ({director}) did not answer at all: it does not hold the VIP."),
                $"On {who}: Set-ArpSuppression -VirtualIP {vip} (Test-LvsRealServer there shows what else is missing)."),
        };
        return new ArpResponder
        {
            VirtualIP = vip,
            MacAddress = mac,
            OwnerAddress = owners,
            InterfaceName = iface,
            Replies = replies,
            ResponderCount = responders,
            Status = status,
            IsDirector = isDirector,
            Detail = detail,
            Remediation = remediation,
        };
    }

    /// <summary>The host that sent a reply: its address where the neighbour table knows it, else its MAC.</summary>
    private static string Name(IReadOnlyList<IPAddress> owners, string mac) =>
        owners.Count > 0
            ? $"{string.Join(", ", owners)} ({mac})"
            : $"the host with MAC {mac} (its address is not in this host's neighbour table)";

    /// <summary>The director's MAC on an interface, asked once per interface with one ARP request for its address.</summary>
    private string DirectorMac(IPAddress address, string iface)
    {
        if (!_directorMacs.TryGetValue(iface, out var mac))
        {
            var replies = Probe(address, iface, count: 1, timeoutSeconds: 1);
            mac = replies.FirstOrDefault()?.MacAddress
                  ?? throw new LvsException(LvsErrorKind.NoArpReply,
                      $"The director {address} did not answer ARP on {iface}, so its reply cannot be told from the others: check -DirectorAddress, or give -DirectorMacAddress.",
                      address.ToString());
            _directorMacs[iface] = mac;
        }

        return mac;
    }

    private List<ArpReply> Probe(IPAddress address, string iface, int count, int timeoutSeconds)
    {
        var result = Runner.Run(ArpingOutput.Command(address, iface, count, timeoutSeconds), CancellationToken);
        // arping exits 1 when some probe went unanswered even though replies came; only higher codes are errors.
        if (result.ExitCode > 1)
        {
            throw ProcessRunnerExtensions.CommandFailed(result);
        }

        return ArpingOutput.ParseReplies(result.StandardOutput).Where(r => r.Address.Equals(address)).ToList();
    }

    private static string ParseMac(string text)
    {
        var mac = text.Trim().Replace('-', ':').ToLowerInvariant();
        return System.Text.RegularExpressions.Regex.IsMatch(mac, "^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
            ? mac
            : throw new LvsException(LvsErrorKind.InvalidArgument,
                $"-DirectorMacAddress '{text}' is not a MAC address: give six hexadecimal pairs, such as 02:00:c0:00:02:01.", text);
    }

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

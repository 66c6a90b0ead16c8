using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LvsDirect.Core.Diagnostics;

/// <summary>One ARP reply arping printed.</summary>
public sealed record ArpReply(IPAddress Address, string MacAddress);

/// <summary>Reads iputils arping output and the neighbour table, for Test-LvsArp.</summary>
public static partial class ArpingOutput
{
    // "Unicast reply from 203.0.113.100 [02:00:C0:00:02:01]  0.640ms"; "Broadcast reply" when the answer was broadcast.
    [GeneratedRegex(@"^(?:Unicast|Broadcast) reply from (?<ip>\d{1,3}(?:\.\d{1,3}){3}) \[(?<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\]", RegexOptions.Multiline)]
    private static partial Regex ReplyLine();

    /// <summary>
    /// The `arping -b -c N -w N -I IF VIP` command. -b keeps every probe broadcast: after the first reply arping
    /// would otherwise unicast to that MAC and never hear a second responder.
    /// </summary>
    public static Tools.ToolCommand Command(IPAddress vip, string interfaceName, int count, int timeoutSeconds) =>
        Tools.ToolCommand.Create("arping", "-b", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-w", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-I", interfaceName, vip.ToString());

    /// <summary>Every reply, in order; arping exits 1 when some probes went unanswered, so its output decides.</summary>
    public static IReadOnlyList<ArpReply> ParseReplies(string stdout) =>
        ReplyLine().Matches(stdout)
            .Select(m => new ArpReply(IPAddress.Parse(m.Groups["ip"].Value), m.Groups["mac"].Value.ToLowerInvariant()))
            .ToList();

    /// <summary>
    /// Parses `ip -j neigh show` into MAC (lower case) -> IPv4 addresses, skipping entries without a link-layer
    /// address (INCOMPLETE, FAILED).
    /// </summary>
    public static ILookup<string, IPAddress> ParseNeighbours(string json)
    {
        var pairs = new List<(string Mac, IPAddress Ip)>();
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
        if (doc.RootElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.Object
                    && e.TryGetProperty("dst", out var dst) && dst.ValueKind == JsonValueKind.String
                    && e.TryGetProperty("lladdr", out var ll) && ll.ValueKind == JsonValueKind.String
                    && IPAddress.TryParse(dst.GetString(), out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                {
                    pairs.Add((ll.GetString()!.ToLowerInvariant(), ip));
                }
            }
        }

        return pairs.ToLookup(p => p.Mac, p => p.Ip);
    }

    /// <summary>Parses `ip -j route get ADDRESS` for the interface the address is reached by.</summary>
    public static string? ParseRouteDevice(string json)
    {
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
        return doc.RootElement.ValueKind == JsonValueKind.Array
               && doc.RootElement.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first
               && first.TryGetProperty("dev", out var dev) && dev.ValueKind == JsonValueKind.String
            ? dev.GetString()
            : null;
    }
}

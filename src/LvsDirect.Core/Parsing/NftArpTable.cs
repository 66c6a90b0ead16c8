using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Parsing;

/// <summary>The nftables method's suppression of one VIP: requests for it dropped, and/or its address rewritten in outgoing ARP.</summary>
public sealed record NftArpEntry(IPAddress VirtualIP, bool Drop, IPAddress? MangleTo);

/// <summary>
/// The table `arp lvsdirect`, which LvsDirect owns whole: per VIP, `arp daddr ip VIP drop` in an input chain and
/// `arp saddr ip VIP arp saddr ip set REAL_IP` (payload mangling, nft 0.9+) in an output chain, the same two
/// rules as the arptables method. It is always replaced as a whole in one `nft -f` transaction, so no other
/// table is touched and there is no moment with half a rule set.
/// </summary>
public static class NftArpTable
{
    public const string Family = "arp";
    public const string Name = "lvsdirect";

    public static ToolCommand ListCommand { get; } = ToolCommand.Create("nft", "-j", "list", "table", Family, Name);

    /// <summary>True when `nft list table` failed only because the table does not exist (nothing configured yet).</summary>
    public static bool IsMissingTable(ToolResult result) =>
        !result.Succeeded && result.StandardError.Contains("No such file or directory", StringComparison.Ordinal);

    /// <summary>Reads the VIPs from `nft -j list table arp lvsdirect`; rules of any other shape are not LvsDirect's and are ignored.</summary>
    public static IReadOnlyList<NftArpEntry> Parse(string json)
    {
        var drops = new List<IPAddress>();
        var mangles = new Dictionary<IPAddress, IPAddress>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
            {
                if (!item.TryGetProperty("rule", out var rule) || rule.GetProperty("table").GetString() != Name)
                {
                    continue;
                }

                var expr = rule.GetProperty("expr").EnumerateArray().ToList();
                if (expr.Count != 2 || MatchedAddress(expr[0]) is not { } match)
                {
                    continue;
                }

                if (match.Field == "daddr ip" && expr[1].TryGetProperty("drop", out _))
                {
                    drops.Add(match.Address);
                }
                else if (match.Field == "saddr ip" && expr[1].TryGetProperty("mangle", out var mangle)
                         && PayloadField(mangle.GetProperty("key")) == "saddr ip"
                         && IPAddress.TryParse(mangle.GetProperty("value").GetString(), out var to))
                {
                    mangles[match.Address] = to;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new LvsException(LvsErrorKind.ParseError, $"Cannot read the nftables table {Family} {Name}: {ex.Message}", json, ex);
        }

        return drops.Concat(mangles.Keys).Distinct()
            .Select(v => new NftArpEntry(v, drops.Contains(v), mangles.GetValueOrDefault(v)))
            .ToList();
    }

    /// <summary>
    /// The `nft -f` script that replaces the table with exactly <paramref name="entries"/>: declaring it first
    /// makes the delete succeed when it does not exist yet; no entries leave no table.
    /// </summary>
    public static string Render(IEnumerable<NftArpEntry> entries)
    {
        var list = entries.ToList();
        var sb = new StringBuilder($"table {Family} {Name}\ndelete table {Family} {Name}\n");
        if (list.Count == 0)
        {
            return sb.ToString();
        }

        sb.Append($"table {Family} {Name} {{\n");
        sb.Append("\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
        foreach (var e in list.Where(e => e.Drop))
        {
            sb.Append($"\t\tarp daddr ip {V4(e.VirtualIP)} drop\n");
        }

        sb.Append("\t}\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n");
        foreach (var e in list.Where(e => e.MangleTo is not null))
        {
            sb.Append($"\t\tarp saddr ip {V4(e.VirtualIP)} arp saddr ip set {V4(e.MangleTo!)}\n");
        }

        sb.Append("\t}\n}\n");
        return sb.ToString();
    }

    private static (string Field, IPAddress Address)? MatchedAddress(JsonElement e)
    {
        if (!e.TryGetProperty("match", out var m) || m.GetProperty("op").GetString() != "=="
            || PayloadField(m.GetProperty("left")) is not { } field
            || m.GetProperty("right").ValueKind != JsonValueKind.String
            || !IPAddress.TryParse(m.GetProperty("right").GetString(), out var address))
        {
            return null;
        }

        return (field, address);
    }

    private static string? PayloadField(JsonElement e) =>
        e.TryGetProperty("payload", out var p) && p.TryGetProperty("protocol", out var proto) && proto.GetString() == "arp"
            ? p.GetProperty("field").GetString()
            : null;

    private static string V4(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetwork ? a.ToString() : throw new LvsException(LvsErrorKind.InvalidAddress, $"ARP rules need IPv4 addresses, not {a}.", a);
}

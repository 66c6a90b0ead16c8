using System.Net;
using System.Text.Json;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Parsing;

/// <summary>Reads the JSON that iproute2 prints with `ip -j`.</summary>
public static class IpJsonParser
{
    private const string AddrCommand = "ip addr show";
    private const string RouteCommand = "ip route show default";
    private const string GatewayCommand = "ip route show table all type unicast";

    /// <summary>Parses `ip -j addr show`. Interfaces without addresses are kept, with an empty address list.</summary>
    public static IReadOnlyList<NetInterface> ParseAddresses(string json)
    {
        using var doc = Load(json, AddrCommand);
        var result = new List<NetInterface>();
        foreach (var link in doc.RootElement.EnumerateArray())
        {
            RequireObject(link, AddrCommand, "an interface entry");
            var name = RequiredString(link, "ifname", AddrCommand, "an interface entry");
            var context = $"interface {name}";
            var index = RequiredInt(link, "ifindex", AddrCommand, context);
            var flags = StringArray(link, "flags", AddrCommand, context);
            var operState = OptionalString(link, "operstate", AddrCommand, context) ?? "UNKNOWN";

            // Absent on link types without a hardware address (tun, some tunnels).
            var mac = OptionalString(link, "address", AddrCommand, context);

            var addresses = new List<InterfaceAddress>();
            if (link.TryGetProperty("addr_info", out var addrInfo))
            {
                if (addrInfo.ValueKind != JsonValueKind.Array)
                {
                    throw Error(AddrCommand, $"'addr_info' of {context} is {addrInfo.ValueKind}, not an array");
                }

                foreach (var a in addrInfo.EnumerateArray())
                {
                    var address = ParseAddress(a, name, context);
                    if (address is not null)
                    {
                        addresses.Add(address);
                    }
                }
            }

            result.Add(new NetInterface(name, index, flags.Contains("UP"), operState, mac, addresses));
        }

        return result;
    }

    /// <summary>
    /// Parses `ip -j route show default`, lowest metric first. A multipath route yields one entry per next hop;
    /// unreachable, blackhole and prohibit defaults are skipped because no packet leaves by them.
    /// </summary>
    public static IReadOnlyList<DefaultRoute> ParseDefaultRoutes(string json)
    {
        using var doc = Load(json, RouteCommand);
        var result = new List<DefaultRoute>();
        foreach (var route in doc.RootElement.EnumerateArray())
        {
            RequireObject(route, RouteCommand, "a route entry");
            var metric = OptionalInt(route, "metric", RouteCommand, "a route entry") ?? 0;
            if (route.TryGetProperty("nexthops", out var hops) && hops.ValueKind == JsonValueKind.Array)
            {
                foreach (var hop in hops.EnumerateArray())
                {
                    RequireObject(hop, RouteCommand, "a nexthop entry");
                    AddRoute(result, hop, metric);
                }
            }
            else
            {
                AddRoute(result, route, metric);
            }
        }

        return result.OrderBy(r => r.Metric).ToList();
    }

    /// <summary>
    /// The gateways of `ip -j route show table all type unicast` (IPv4 and IPv6, every routing table): a route's
    /// own gateway, each next hop's of a multipath route, and the host of a `via` in another family.
    /// </summary>
    public static IReadOnlyList<IPAddress> ParseGateways(string json)
    {
        using var doc = Load(json, GatewayCommand);
        var result = new HashSet<IPAddress>();
        foreach (var route in doc.RootElement.EnumerateArray())
        {
            RequireObject(route, GatewayCommand, "a route entry");
            if (route.TryGetProperty("nexthops", out var hops) && hops.ValueKind == JsonValueKind.Array)
            {
                // Enumerated in place, not collected: a list of JsonElement (a struct) is compiled on first use.
                foreach (var hop in hops.EnumerateArray())
                {
                    AddGateway(result, hop);
                }
            }
            else
            {
                AddGateway(result, route);
            }
        }

        return [.. result];
    }

    /// <summary>
    /// Splits the output of `ip -j -batch -` into one JSON text per command. iproute2 6.1 prints each command's
    /// array on its own line (`-p` spreads one array over many lines); a command that fails under `-force`
    /// prints nothing, so documents and commands only line up when the batch succeeded.
    /// </summary>
    public static IReadOnlyList<string> SplitDocuments(string text)
    {
        // Utf8JsonReader.AllowMultipleValues would do this, but it only exists from .NET 9 and Core targets net8.0.
        var docs = new List<string>();
        var depth = 0;
        var start = -1;
        var inString = false;
        var escaped = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (escaped)
                {
                    escaped = false;
                }
                else if (c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (c)
            {
                case '"' when depth > 0:
                    inString = true;
                    break;
                case '[' or '{':
                    if (depth++ == 0)
                    {
                        start = i;
                    }

                    break;
                case ']' or '}':
                    if (depth == 0)
                    {
                        throw Error("ip -batch", $"unmatched '{c}' at offset {i}");
                    }

                    if (--depth == 0)
                    {
                        docs.Add(text[start..(i + 1)]);
                    }

                    break;
                default:
                    if (depth == 0 && !char.IsWhiteSpace(c))
                    {
                        throw Error("ip -batch", $"unexpected '{c}' between JSON documents at offset {i}");
                    }

                    break;
            }
        }

        if (depth != 0)
        {
            throw Error("ip -batch", $"the last JSON document is truncated (starts at offset {start})");
        }

        return docs;
    }

    private static InterfaceAddress? ParseAddress(JsonElement a, string ifName, string context)
    {
        // Its description is built only for the error: an entry of every address is checked.
        if (a.ValueKind != JsonValueKind.Object)
        {
            RequireObject(a, AddrCommand, $"an addr_info entry of {context}");
        }

        // One pass over the entry's properties (a host with thousands of VIPs has thousands of entries, and a
        // lookup by name scans them each time); the usual values are compared in place, not copied out as strings.
        JsonElement family = default, local = default, prefix = default, broadcast = default, label = default, scope = default;
        var secondary = false;
        foreach (var p in a.EnumerateObject())
        {
            switch (AddressField(p))
            {
                case 0: family = p.Value; break;
                case 1: local = p.Value; break;
                case 2: prefix = p.Value; break;
                case 3: broadcast = p.Value; break;
                case 4: label = p.Value; break;
                case 5: scope = p.Value; break;
                case 6: secondary = p.Value.ValueKind == JsonValueKind.True; break;
            }
        }

        if (!IsString(family, "family", AddrCommand, context) || !(family.ValueEquals("inet"u8) || family.ValueEquals("inet6"u8)))
        {
            return null;
        }

        var localText = IsString(local, "local", AddrCommand, context) ? local.GetString()! : throw Error(AddrCommand, $"'local' of {context} is missing");
        var ip = ParseIp(localText, AddrCommand, $"'local' of {context}");
        var prefixLength = prefix.ValueKind == JsonValueKind.Undefined
            ? throw Error(AddrCommand, $"'prefixlen' of {context} is missing")
            : Int(prefix, "prefixlen", AddrCommand, context);
        var broadcastIp = IsString(broadcast, "broadcast", AddrCommand, context) ? ParseIp(broadcast.GetString()!, AddrCommand, $"'broadcast' of {context}") : null;
        var labelText = !IsString(label, "label", AddrCommand, context) ? null : label.ValueEquals(ifName) ? ifName : label.GetString();
        var scopeText = !IsString(scope, "scope", AddrCommand, context) ? "global"
            : scope.ValueEquals("global"u8) ? "global"
            : scope.ValueEquals("host"u8) ? "host"
            : scope.ValueEquals("link"u8) ? "link"
            : scope.GetString()!;
        return new InterfaceAddress(ifName, ip, prefixLength, labelText, broadcastIp, scopeText, secondary);
    }

    /// <summary>Which of the addr_info properties <see cref="ParseAddress"/> reads <paramref name="p"/> is (-1: another).</summary>
    private static int AddressField(JsonProperty p) =>
        p.NameEquals("family"u8) ? 0
        : p.NameEquals("local"u8) ? 1
        : p.NameEquals("prefixlen"u8) ? 2
        : p.NameEquals("broadcast"u8) ? 3
        : p.NameEquals("label"u8) ? 4
        : p.NameEquals("scope"u8) ? 5
        : p.NameEquals("secondary"u8) ? 6
        : -1;

    /// <summary>Whether a property's value <paramref name="v"/> holds a string: false when absent (default) or null, an error when another kind.</summary>
    private static bool IsString(JsonElement v, string property, string what, string context) => v.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => false,
        JsonValueKind.String => true,
        _ => throw Error(what, $"'{property}' of {context} is {v.ValueKind}, not a string"),
    };

    private static void AddGateway(HashSet<IPAddress> result, JsonElement hop)
    {
        RequireObject(hop, GatewayCommand, "a nexthop entry");
        var text = OptionalString(hop, "gateway", GatewayCommand, "a route entry")
                   ?? (hop.TryGetProperty("via", out var via) && via.ValueKind == JsonValueKind.Object ? OptionalString(via, "host", GatewayCommand, "a route's via") : null);
        if (text is not null)
        {
            result.Add(ParseIp(text, GatewayCommand, "'gateway' of a route entry"));
        }
    }

    private static void AddRoute(List<DefaultRoute> result, JsonElement hop, int metric)
    {
        var dev = OptionalString(hop, "dev", RouteCommand, "a route entry");
        if (dev is null)
        {
            return;
        }

        var context = $"the route via {dev}";
        var gatewayText = OptionalString(hop, "gateway", RouteCommand, context);
        var gateway = gatewayText is null ? null : ParseIp(gatewayText, RouteCommand, $"'gateway' of {context}");
        result.Add(new DefaultRoute(dev, gateway, metric));
    }

    private static JsonDocument Load(string json, string what)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new LvsException(LvsErrorKind.ParseError, $"Output of '{what}' is not valid JSON: {ex.Message}", json, ex);
        }

        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            var kind = doc.RootElement.ValueKind;
            doc.Dispose();
            throw Error(what, $"expected a JSON array at the top level, found {kind}");
        }

        return doc;
    }

    private static void RequireObject(JsonElement e, string what, string description)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Error(what, $"{description} is {e.ValueKind}, not an object");
        }
    }

    private static string RequiredString(JsonElement e, string property, string what, string context) =>
        OptionalString(e, property, what, context) ?? throw Error(what, $"'{property}' of {context} is missing");

    private static string? OptionalString(JsonElement e, string property, string what, string context) =>
        e.TryGetProperty(property, out var v) && IsString(v, property, what, context) ? v.GetString() : null;

    private static int RequiredInt(JsonElement e, string property, string what, string context) =>
        OptionalInt(e, property, what, context) ?? throw Error(what, $"'{property}' of {context} is missing");

    private static int? OptionalInt(JsonElement e, string property, string what, string context) =>
        e.TryGetProperty(property, out var v) ? Int(v, property, what, context) : null;

    /// <summary>A present property's value <paramref name="v"/> as a 32-bit integer, or an error naming it.</summary>
    private static int Int(JsonElement v, string property, string what, string context) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n)
            ? n
            : throw Error(what, $"'{property}' of {context} is not a 32-bit integer: {v.GetRawText()}");

    private static HashSet<string> StringArray(JsonElement e, string property, string what, string context)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (!e.TryGetProperty(property, out var v))
        {
            return set;
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error(what, $"'{property}' of {context} is {v.ValueKind}, not an array");
        }

        foreach (var item in v.EnumerateArray())
        {
            set.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw Error(what, $"'{property}' of {context} contains {item.ValueKind}, not a string"));
        }

        return set;
    }

    private static IPAddress ParseIp(string text, string what, string description) =>
        IPAddress.TryParse(text, out var ip)
            ? ip
            : throw new LvsException(LvsErrorKind.ParseError, $"Output of '{what}': {description} is not an IP address: '{text}'", text);

    private static LvsException Error(string what, string message) =>
        new(LvsErrorKind.ParseError, $"Output of '{what}' is malformed: {message}");
}

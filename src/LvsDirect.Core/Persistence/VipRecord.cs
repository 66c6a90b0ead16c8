using System.Net;
using System.Text.Json;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;

namespace LvsDirect.Core.Persistence;

/// <summary>A VIP LvsDirect created (or was told to adopt) on this host.</summary>
public sealed record ManagedVip(IPAddress Address, int PrefixLength, string InterfaceName, string? Label = null);

/// <summary>
/// LvsDirect's ownership record: which VIP addresses it manages on this host (network namespace). It is what
/// "LvsDirect did not create it" means: a VIP set up by hand the seed's way looks exactly like one LvsDirect
/// made, so the only way to tell them apart is to remember. Root-only (0600 in the scope's 0700 folder),
/// written atomically under the host lock, in the durable folder so that it survives a reboot.
/// </summary>
public static class VipRecord
{
    public const string FileName = "vips.json";

    /// <summary>The record of <paramref name="scope"/>'s network namespace; its folder is created on the way.</summary>
    public static string DefaultPath(HostScope scope) => Path.Combine(scope.EnsureStateDirectory(), FileName);

    /// <summary>The record's path below a scope's state folder (the agentless script names the folder).</summary>
    public static string PathIn(string stateDirectory) => stateDirectory.TrimEnd('/') + "/" + FileName;

    public static IReadOnlyList<ManagedVip> Load(string path) => Parse(HostScope.ReadPrivateFile(path), path);

    /// <summary>Writes the record (removing the file when it is empty); false when nothing changed.</summary>
    public static bool Save(string path, IReadOnlyCollection<ManagedVip> vips)
    {
        return vips.Count == 0 ? HostScope.RemovePrivateFile(path) : HostScope.WritePrivateFile(path, Render(vips));
    }

    /// <summary>Null or empty text is an empty record (none was written yet).</summary>
    public static IReadOnlyList<ManagedVip> Parse(string? text, string path)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        // JsonDocument and Utf8JsonWriter rather than the serializer: its metadata and converters cost a fresh
        // process more than the rest of the record's work on the first command that reads it, and the reader and
        // writer are already warm from ip's JSON.
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw NotARecord(path, $"the top level is {root.ValueKind}, not an object");
            }

            var result = new List<ManagedVip>();
            if (!root.TryGetProperty("vips", out var vips) || vips.ValueKind == JsonValueKind.Null)
            {
                return result;
            }

            if (vips.ValueKind != JsonValueKind.Array)
            {
                throw NotARecord(path, $"'vips' is {vips.ValueKind}, not an array");
            }

            foreach (var e in vips.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object)
                {
                    throw NotARecord(path, $"an entry of 'vips' is {e.ValueKind}, not an object");
                }

                var addressText = Text(e, "address", path);
                var prefixLength = Number(e, "prefixLength", path);
                var interfaceName = Text(e, "interfaceName", path);
                var label = Text(e, "label", path);
                if (!IPAddress.TryParse(addressText, out var address) || prefixLength is < 0 or > 128 || string.IsNullOrEmpty(interfaceName))
                {
                    throw new LvsException(LvsErrorKind.ParseError, $"'{path}' has an entry that is not a VIP: '{addressText}/{prefixLength}' on '{interfaceName}'.", path);
                }

                result.Add(new ManagedVip(address, prefixLength, interfaceName, string.IsNullOrEmpty(label) ? null : label));
            }

            return result;
        }
        catch (JsonException ex)
        {
            throw NotARecord(path, ex.Message, ex);
        }
    }

    private const string Comment = "Written by LvsDirect: the VIPs it manages in this network namespace. Addresses not listed here are never changed by it.";

    /// <summary>Characters that JSON's default encoder writes as they are, so text made of them needs no escaping.</summary>
    private static readonly System.Buffers.SearchValues<char> Plain =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@%/-");

    /// <summary>The entries the record holds for <paramref name="vips"/>: the first per address, in address order.</summary>
    public static List<ManagedVip> Normalize(IReadOnlyCollection<ManagedVip> vips)
    {
        var seen = new HashSet<IPAddress>();
        var keyed = new List<Keyed>(vips.Count);
        foreach (var v in vips)
        {
            if (seen.Add(v.Address))
            {
                keyed.Add(new Keyed(v));
            }
        }

        keyed.Sort(Keyed.Order);
        return keyed.ConvertAll(k => k.Vip);
    }

    /// <summary>The same set of VIPs is written as the same record, whatever their order or repetitions.</summary>
    public static bool SameRecord(IReadOnlyCollection<ManagedVip> a, IReadOnlyCollection<ManagedVip> b) =>
        Normalize(a).SequenceEqual(Normalize(b));

    /// <summary>
    /// One entry per address, in address order, so the same set always gives the same file: indented JSON as
    /// System.Text.Json writes it (the earlier releases' serializer), byte for byte.
    /// </summary>
    public static string Render(IReadOnlyCollection<ManagedVip> vips)
    {
        var entries = Normalize(vips);
        if (entries.Count == 0 || !entries.TrueForAll(IsPlain))
        {
            return RenderWithWriter(entries);
        }

        // Text that needs no escaping is laid out directly: a thousand VIPs through the JSON writer cost a command
        // more than planning them.
        var sb = new System.Text.StringBuilder(256 + (entries.Count * 120));
        sb.Append("{\n  \"comment\": \"").Append(Comment).Append("\",\n  \"vips\": [");
        for (var i = 0; i < entries.Count; i++)
        {
            var v = entries[i];
            sb.Append(i == 0 ? "\n" : ",\n")
                .Append("    {\n      \"address\": \"").Append(v.Address.ToString())
                .Append("\",\n      \"prefixLength\": ").Append(v.PrefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Append(",\n      \"interfaceName\": \"").Append(v.InterfaceName).Append('"');
            if (v.Label is not null)
            {
                sb.Append(",\n      \"label\": \"").Append(v.Label).Append('"');
            }

            sb.Append("\n    }");
        }

        return sb.Append("\n  ]\n}\n").ToString();
    }

    private static bool IsPlain(ManagedVip v) =>
        !v.InterfaceName.AsSpan().ContainsAnyExcept(Plain) && (v.Label is null || !v.Label.AsSpan().ContainsAnyExcept(Plain));

    /// <summary>Any text, escaped as the JSON writer escapes it.</summary>
    private static string RenderWithWriter(List<ManagedVip> entries)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("comment", Comment);
            w.WriteStartArray("vips");
            foreach (var v in entries)
            {
                w.WriteStartObject();
                w.WriteString("address", v.Address.ToString());
                w.WriteNumber("prefixLength", v.PrefixLength);
                w.WriteString("interfaceName", v.InterfaceName);
                if (v.Label is not null)
                {
                    w.WriteString("label", v.Label);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    private static LvsException NotARecord(string path, string why, Exception? inner = null) =>
        new(LvsErrorKind.ParseError, $"'{path}' is not an LvsDirect ownership record: {why}. Fix or remove it (then adopt the VIPs again with -Adopt).", path, inner);

    /// <summary>A string property; null when it is missing or null, as the serializer read it.</summary>
    private static string? Text(JsonElement e, string name, string path) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : throw NotARecord(path, $"'{name}' is {v.ValueKind}, not a string");

    /// <summary>An integer property; 0 when it is missing, as the serializer read it.</summary>
    private static int Number(JsonElement e, string name, string path) =>
        !e.TryGetProperty(name, out var v) ? 0
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n
        : throw NotARecord(path, $"'{name}' is not a 32-bit integer: {v.GetRawText()}");

    /// <summary>A VIP with its address's bytes, taken once for sorting: IPv4 before IPv6, then by those bytes (an IPv4 address's as one number).</summary>
    private sealed class Keyed(ManagedVip vip)
    {
        public static readonly IComparer<Keyed> Order = Comparer<Keyed>.Create(static (x, y) =>
        {
            var family = ((int)x.Vip.Address.AddressFamily).CompareTo((int)y.Vip.Address.AddressFamily);
            return family != 0 ? family
                : x.Bytes is null ? x.V4.CompareTo(y.V4)
                : ((ReadOnlySpan<byte>)x.Bytes).SequenceCompareTo(y.Bytes);
        });

        public ManagedVip Vip { get; } = vip;

        /// <summary>An IPv4 address's number (its bytes in order, compared as one) ...</summary>
        public uint V4 { get; } = vip.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Model.Ipv4.Value(vip.Address) : 0;

        /// <summary>... or an IPv6 address's bytes.</summary>
        public byte[]? Bytes { get; } = vip.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? null : vip.Address.GetAddressBytes();
    }
}

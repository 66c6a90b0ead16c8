using System.Text.Json;
using System.Text.Json.Serialization;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// Which addresses LvsDirect added to which NetworkManager profile: the profile itself cannot tell them from the
/// admin's, and only these are ever removed from it. Root-only, beside the ownership record, written atomically.
/// </summary>
public static partial class NmProfileRecord
{
    public const string FileName = "nm-profiles.json";

    /// <summary>The record beside the ownership record <paramref name="vipRecordPath"/>.</summary>
    public static string PathBeside(string vipRecordPath) => Path.Combine(Path.GetDirectoryName(vipRecordPath)!, FileName);

    public static IReadOnlyList<NmOwnedAddresses> Load(string path)
    {
        var text = HostScope.ReadPrivateFile(path);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        try
        {
            var doc = JsonSerializer.Deserialize(text, NmProfileRecordJson.Default.Document);
            return (doc?.Profiles ?? [])
                .Select(p => string.IsNullOrEmpty(p.Uuid) || string.IsNullOrEmpty(p.InterfaceName)
                    ? throw new LvsException(LvsErrorKind.ParseError, $"'{path}' has a profile entry without uuid or interfaceName.", path)
                    : new NmOwnedAddresses(p.Uuid, p.InterfaceName, p.Addresses ?? []))
                .ToList();
        }
        catch (JsonException ex)
        {
            throw new LvsException(LvsErrorKind.ParseError, $"'{path}' is not LvsDirect's record of NetworkManager profiles: {ex.Message}. Fix it, or remove it and the VIPs from the profiles by hand (nmcli connection modify UUID -ipv4.addresses VIP).", path, ex);
        }
    }

    /// <summary>
    /// The VIPs LvsDirect keeps in NetworkManager profiles, as its record says, for the diagnosis: NetworkManager
    /// brings them up with the profile's connection at boot.
    /// </summary>
    public static IReadOnlyList<NativePersistedVip> PersistedVips(string path) =>
        Load(path)
            .SelectMany(p => p.Addresses.Select(a => (Profile: p, Cidr: a.Split('/'))))
            .Where(x => x.Cidr.Length == 2 && System.Net.IPAddress.TryParse(x.Cidr[0], out _) && int.TryParse(x.Cidr[1], out _))
            .Select(x => new NativePersistedVip(System.Net.IPAddress.Parse(x.Cidr[0]), int.Parse(x.Cidr[1], System.Globalization.CultureInfo.InvariantCulture), x.Profile.InterfaceName, NativeTarget.NetworkManager, $"NetworkManager connection {x.Profile.Uuid}"))
            .ToList();

    /// <summary>Writes the record (removing the file when no profile holds an address of LvsDirect's); false when nothing changed.</summary>
    public static bool Save(string path, IReadOnlyCollection<NmOwnedAddresses> profiles)
    {
        var kept = profiles.Where(p => p.Addresses.Count > 0).OrderBy(p => p.Uuid, StringComparer.Ordinal).ToList();
        if (kept.Count == 0)
        {
            return HostScope.RemovePrivateFile(path);
        }

        var doc = new Document
        {
            Comment = "Written by LvsDirect (Save-LvsVip -Target NetworkManager): the addresses it added to NetworkManager profiles. Only these are ever removed from them.",
            Profiles = kept.Select(p => new Entry { Uuid = p.Uuid, InterfaceName = p.InterfaceName, Addresses = [.. p.Addresses.Order(StringComparer.Ordinal)] }).ToList(),
        };
        return HostScope.WritePrivateFile(path, JsonSerializer.Serialize(doc, NmProfileRecordJson.Default.Document) + "\n");
    }

    // Source-generated, as the ownership record: no reflection cost on a command's first call.
    [JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(Document))]
    private sealed partial class NmProfileRecordJson : JsonSerializerContext;

    private sealed class Document
    {
        [JsonPropertyName("comment")]
        public string? Comment { get; set; }

        [JsonPropertyName("profiles")]
        public List<Entry>? Profiles { get; set; }
    }

    private sealed class Entry
    {
        [JsonPropertyName("uuid")]
        public string? Uuid { get; set; }

        [JsonPropertyName("interfaceName")]
        public string? InterfaceName { get; set; }

        [JsonPropertyName("addresses")]
        public List<string>? Addresses { get; set; }
    }
}

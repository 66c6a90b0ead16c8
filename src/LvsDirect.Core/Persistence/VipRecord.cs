using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
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
public static partial class VipRecord
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

        try
        {
            var doc = JsonSerializer.Deserialize(text, VipRecordJson.Default.Document);
            var result = new List<ManagedVip>();
            foreach (var e in doc?.Vips ?? [])
            {
                if (!IPAddress.TryParse(e.Address, out var address) || e.PrefixLength is < 0 or > 128 || string.IsNullOrEmpty(e.InterfaceName))
                {
                    throw new LvsException(LvsErrorKind.ParseError, $"'{path}' has an entry that is not a VIP: '{e.Address}/{e.PrefixLength}' on '{e.InterfaceName}'.", path);
                }

                result.Add(new ManagedVip(address, e.PrefixLength, e.InterfaceName, string.IsNullOrEmpty(e.Label) ? null : e.Label));
            }

            return result;
        }
        catch (JsonException ex)
        {
            throw new LvsException(LvsErrorKind.ParseError, $"'{path}' is not an LvsDirect ownership record: {ex.Message}. Fix or remove it (then adopt the VIPs again with -Adopt).", path, ex);
        }
    }

    /// <summary>One entry per address, in address order, so the same set always gives the same file.</summary>
    public static string Render(IReadOnlyCollection<ManagedVip> vips)
    {
        var doc = new Document
        {
            Comment = "Written by LvsDirect: the VIPs it manages in this network namespace. Addresses not listed here are never changed by it.",
            Vips = vips.DistinctBy(v => v.Address)
                .OrderBy(v => v.Address.AddressFamily).ThenBy(v => v.Address.GetAddressBytes(), ByteOrder.Instance)
                .Select(v => new Entry { Address = v.Address.ToString(), PrefixLength = v.PrefixLength, InterfaceName = v.InterfaceName, Label = v.Label })
                .ToList(),
        };
        return JsonSerializer.Serialize(doc, VipRecordJson.Default.Document) + "\n";
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
    }

    // Source-generated (de)serialization: the reflection-based serializer costs a fresh process tens of milliseconds
    // of type inspection and code generation on its first call, which every changing command makes.
    [JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(Document))]
    private sealed partial class VipRecordJson : JsonSerializerContext;

    private sealed class Document
    {
        [JsonPropertyName("comment")]
        public string? Comment { get; set; }

        [JsonPropertyName("vips")]
        public List<Entry>? Vips { get; set; }
    }

    private sealed class Entry
    {
        [JsonPropertyName("address")]
        public string? Address { get; set; }

        [JsonPropertyName("prefixLength")]
        public int PrefixLength { get; set; }

        [JsonPropertyName("interfaceName")]
        public string? InterfaceName { get; set; }

        [JsonPropertyName("label")]
        public string? Label { get; set; }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Persistence;

/// <summary>A setting the sysctl method raised: its value before, and the value LvsDirect wrote.</summary>
public sealed record SysctlRecord(SysctlKey Key, int Previous, int Set);

/// <summary>
/// The values the sysctl method replaced, kept so that removing the last VIP on lo puts them back. Only
/// settings LvsDirect itself raised are recorded; a setting that already had the value is never touched on
/// removal. Written atomically; an empty record removes the file. The record carries the
/// <see cref="NamespaceStamp"/> of the namespace and boot it was written in: one without that stamp (an earlier
/// namespace with the same name or inode, an earlier boot) describes values of a kernel state that is gone, so
/// it is removed and never applied.
/// </summary>
public static partial class SysctlStateFile
{
    public const string FileName = "arp-sysctl.json";

    /// <summary>In the root-only state folder of <paramref name="scope"/>'s network namespace, created on the way.</summary>
    public static string DefaultPath(HostScope scope) => Path.Combine(scope.EnsureStateDirectory(), FileName);

    /// <summary>The record, or nothing when there is none or it is stale (then the file is removed).</summary>
    public static IReadOnlyList<SysctlRecord> Load(string path) => Load(path, HostScope.Stamp());

    internal static IReadOnlyList<SysctlRecord> Load(string path, NamespaceStamp current)
    {
        var (records, stale) = Parse(AtomicFile.ReadAllTextOrNull(path), path, current);
        if (stale)
        {
            Delete(path);
        }

        return records;
    }

    /// <summary>
    /// The records in a record file's text (null: no file) read in the namespace and boot <paramref name="current"/>;
    /// Stale when the file was stamped elsewhere, so it is to be removed and never applied. The agentless transport
    /// reads the file over ssh and parses it here, with the server's stamp.
    /// </summary>
    public static (IReadOnlyList<SysctlRecord> Records, bool Stale) Parse(string? text, string path, NamespaceStamp current)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ([], false);
        }

        try
        {
            var doc = JsonSerializer.Deserialize(text, SysctlRecordJson.Default.Document);
            if (!current.Matches(new NamespaceStamp(doc?.NetnsCookie, doc?.BootId, doc?.NetnsInode ?? 0)))
            {
                return ([], true);
            }

            var result = new List<SysctlRecord>();
            foreach (var e in doc?.Sysctls ?? [])
            {
                var key = SysctlKey.TryParse(e.Name ?? string.Empty)
                          ?? throw new LvsException(LvsErrorKind.ParseError, $"'{path}' names '{e.Name}', which is not an arp_ignore or arp_announce setting.", path);
                result.Add(new SysctlRecord(key, e.Previous, e.Set));
            }

            return (result, false);
        }
        catch (JsonException ex)
        {
            throw new LvsException(LvsErrorKind.ParseError, $"'{path}' is not an LvsDirect sysctl record: {ex.Message}", path, ex);
        }
    }

    private static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>Writes <paramref name="records"/> (or removes the file when there are none); false when nothing changed.</summary>
    public static bool Save(string path, IReadOnlyList<SysctlRecord> records) => Save(path, records, HostScope.Stamp());

    internal static bool Save(string path, IReadOnlyList<SysctlRecord> records, NamespaceStamp stamp)
    {
        if (records.Count == 0)
        {
            if (!File.Exists(path))
            {
                return false;
            }

            Delete(path);
            return true;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot create the folder of '{path}': {ex.Message}", path, ex);
        }

        return AtomicFile.WriteAllText(path, Render(records, stamp), (UnixFileMode)Convert.ToInt32("600", 8));
    }

    /// <summary>The file's text for <paramref name="records"/>, stamped with the namespace and boot they belong to.</summary>
    public static string Render(IReadOnlyList<SysctlRecord> records, NamespaceStamp stamp)
    {
        var doc = new Document
        {
            Comment = "Written by LvsDirect: the ARP sysctls it raised for VIPs on lo, with their earlier values, restored when the last such VIP is removed.",
            NetnsCookie = stamp.Cookie,
            BootId = stamp.BootId,
            NetnsInode = stamp.Inode,
            Sysctls = records.Select(r => new Entry { Name = r.Key.Name, Previous = r.Previous, Set = r.Set }).ToList(),
        };
        return JsonSerializer.Serialize(doc, SysctlRecordJson.Default.Document) + "\n";
    }

    // Source-generated (de)serialization: the reflection-based serializer costs a fresh process tens of milliseconds
    // of type inspection and code generation on its first call, which every changing command makes.
    [JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(Document))]
    private sealed partial class SysctlRecordJson : JsonSerializerContext;

    private sealed class Document
    {
        [JsonPropertyName("comment")]
        public string? Comment { get; set; }

        [JsonPropertyName("netnsCookie")]
        public ulong? NetnsCookie { get; set; }

        [JsonPropertyName("bootId")]
        public string? BootId { get; set; }

        [JsonPropertyName("netnsInode")]
        public ulong NetnsInode { get; set; }

        [JsonPropertyName("sysctls")]
        public List<Entry>? Sysctls { get; set; }
    }

    private sealed class Entry
    {
        [JsonPropertyName("name")]
        public string? Name { get; set; }

        [JsonPropertyName("previous")]
        public int Previous { get; set; }

        [JsonPropertyName("set")]
        public int Set { get; set; }
    }
}

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
/// removal. Written atomically; an empty record removes the file.
/// </summary>
public static class SysctlStateFile
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// /var/lib/lvsdirect for the host's own network namespace. The sysctls of any other namespace die with
    /// it, so its record lives in /run, named after the namespace like the host lock.
    /// </summary>
    public static string DefaultPath()
    {
        var netns = HostLock.NetnsId();
        return netns == HostLock.InitialNetnsId
            ? "/var/lib/lvsdirect/arp-sysctl.json"
            : $"/run/lvsdirect/arp-sysctl-{netns}.json";
    }

    public static IReadOnlyList<SysctlRecord> Load(string path)
    {
        var text = AtomicFile.ReadAllTextOrNull(path);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        try
        {
            var doc = JsonSerializer.Deserialize<Document>(text, Json);
            var result = new List<SysctlRecord>();
            foreach (var e in doc?.Sysctls ?? [])
            {
                var key = SysctlKey.TryParse(e.Name ?? string.Empty)
                          ?? throw new LvsException(LvsErrorKind.ParseError, $"'{path}' names '{e.Name}', which is not an arp_ignore or arp_announce setting.", path);
                result.Add(new SysctlRecord(key, e.Previous, e.Set));
            }

            return result;
        }
        catch (JsonException ex)
        {
            throw new LvsException(LvsErrorKind.ParseError, $"'{path}' is not an LvsDirect sysctl record: {ex.Message}", path, ex);
        }
    }

    /// <summary>Writes <paramref name="records"/> (or removes the file when there are none); false when nothing changed.</summary>
    public static bool Save(string path, IReadOnlyList<SysctlRecord> records)
    {
        if (records.Count == 0)
        {
            if (!File.Exists(path))
            {
                return false;
            }

            try
            {
                File.Delete(path);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{path}': {ex.Message}", path, ex);
            }
        }

        var doc = new Document
        {
            Comment = "Written by LvsDirect: the ARP sysctls it raised for VIPs on lo, with their earlier values, restored when the last such VIP is removed.",
            Sysctls = records.Select(r => new Entry { Name = r.Key.Name, Previous = r.Previous, Set = r.Set }).ToList(),
        };
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot create the folder of '{path}': {ex.Message}", path, ex);
        }

        return AtomicFile.WriteAllText(path, JsonSerializer.Serialize(doc, Json) + "\n", (UnixFileMode)Convert.ToInt32("644", 8));
    }

    private sealed class Document
    {
        [JsonPropertyName("comment")]
        public string? Comment { get; set; }

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

using System.Collections;
using System.Security.Cryptography;
using System.Text;

namespace LvsDirect.Remoting;

/// <summary>
/// The files of the LvsDirect module this process loaded (its folder: manifest, assemblies, format file, help),
/// read once per process, as a remote host receives them.
/// </summary>
internal sealed partial class ModulePayload
{
    [System.Text.RegularExpressions.GeneratedRegex(@"ModuleVersion\s*=\s*'([^']+)'")]
    private static partial System.Text.RegularExpressions.Regex ManifestVersion();

    private static readonly Lazy<ModulePayload> Loaded = new(() => FromFolder(LvsDirect.Loader.ReadyToRunLoader.ModuleFolder));

    private ModulePayload(string folder, string version, string fingerprint, IReadOnlyDictionary<string, byte[]> files)
    {
        Folder = folder;
        Version = version;
        Fingerprint = fingerprint;
        Files = files;
    }

    public static ModulePayload Current => Loaded.Value;

    public string Folder { get; }

    /// <summary>The ModuleVersion of the manifest beside the assembly.</summary>
    public string Version { get; }

    /// <summary>SHA-256 over every file's relative path and content: two builds of one version differ in it.</summary>
    public string Fingerprint { get; }

    /// <summary>Relative path (with '/') to content.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    public Hashtable ToHashtable()
    {
        var table = new Hashtable(StringComparer.Ordinal);
        foreach (var (name, bytes) in Files)
        {
            table[name] = bytes;
        }

        return table;
    }

    internal static ModulePayload FromFolder(string folder)
    {
        var manifest = Path.Combine(folder, "LvsDirect.psd1");
        if (!File.Exists(manifest))
        {
            throw new InvalidOperationException($"The LvsDirect module loaded from {folder} has no LvsDirect.psd1 beside it, so it cannot be copied to another host. Import the built module (output/LvsDirect/<version>) by its manifest.");
        }

        var version = ManifestVersion().Match(File.ReadAllText(manifest)).Groups[1].Value;
        if (version.Length == 0)
        {
            throw new InvalidOperationException($"{manifest} has no ModuleVersion.");
        }

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
            if (!relative.StartsWith('.'))
            {
                files[relative] = File.ReadAllBytes(path);
            }
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, bytes) in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
            sha.AppendData(bytes);
        }

        return new ModulePayload(folder, version, Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant(), files);
    }
}

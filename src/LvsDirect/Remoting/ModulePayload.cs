using System.IO.Compression;
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

    private readonly Lazy<byte[]> _archive;

    private static readonly Lazy<ModulePayload> Loaded = new(() => FromFolder(LvsDirect.Loader.ReadyToRunLoader.ModuleFolder));

    private ModulePayload(string folder, string version, string fingerprint, IReadOnlyDictionary<string, byte[]> files)
    {
        Folder = folder;
        Version = version;
        Fingerprint = fingerprint;
        Files = files;
        _archive = new Lazy<byte[]>(() => Zip(files));
    }

    public static ModulePayload Current => Loaded.Value;

    public string Folder { get; }

    /// <summary>The ModuleVersion of the manifest beside the assembly.</summary>
    public string Version { get; }

    /// <summary>SHA-256 over every file's relative path and content: two builds of one version differ in it.</summary>
    public string Fingerprint { get; }

    /// <summary>Relative path (with '/') to content.</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>
    /// Every file in one zip, made once per process, as a host receives them: PowerShell remoting sends each byte
    /// twice encoded (base64 in the serialized object, and again in the transport's fragments) and both ends parse
    /// it, so the module's 4 MB went to every host as some 7 MB of text; deflated, the same files are about a third.
    /// </summary>
    public byte[] Archive => _archive.Value;

    private static byte[] Zip(IReadOnlyDictionary<string, byte[]> files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in files)
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                entry.Write(bytes);
            }
        }

        return buffer.ToArray();
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

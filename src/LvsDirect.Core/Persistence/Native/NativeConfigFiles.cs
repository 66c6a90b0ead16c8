using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// The network configuration of a host as text: every file the stacks read, by its path below the root ("etc/…",
/// never with a leading slash), plus what was seen of the running system. The renderers, the detector and the
/// readers work on this alone, so they are tested on fixtures; <see cref="Read"/> is the only I/O.
/// </summary>
public sealed record NativeConfigFiles
{
    /// <summary>The folders systemd-networkd reads .network files from, the earlier hiding a file of the same name in a later one.</summary>
    public static readonly string[] NetworkdFolders = ["etc/systemd/network", "run/systemd/network", "usr/local/lib/systemd/network", "usr/lib/systemd/network", "lib/systemd/network"];

    /// <summary>netplan reads these; a file name in a later folder hides the same name in an earlier one (/run wins over /etc over /lib).</summary>
    public static readonly string[] NetplanFolders = ["lib/netplan", "etc/netplan", "run/netplan"];

    public static readonly string[] NetworkManagerFolders = ["etc/NetworkManager/system-connections", "run/NetworkManager/system-connections"];

    public const string IfupdownInterfaces = "etc/network/interfaces";

    public const string IfupdownFolder = "etc/network/interfaces.d";

    public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>();

    /// <summary>systemd-networkd runs (its state folder /run/systemd/netif/links exists).</summary>
    public bool NetworkdRunning { get; init; }

    /// <summary>NetworkManager runs (/run/NetworkManager exists).</summary>
    public bool NetworkManagerRunning { get; init; }

    /// <summary>`NetworkManager --version`; null when it is not installed.</summary>
    public Version? NetworkManagerVersion { get; init; }

    /// <summary>Links by name, with their MAC address (for networkd's [Match] MACAddress=) and whether they are loopback.</summary>
    public IReadOnlyDictionary<string, string?> LinkMacs { get; init; } = new Dictionary<string, string?>();

    public string? Text(string relativePath) => Files.TryGetValue(relativePath, out var t) ? t : null;

    /// <summary>The files directly in <paramref name="folder"/> (relative), by name.</summary>
    public IEnumerable<(string Path, string Name, string Text)> In(string folder) =>
        Files.Where(f => Path.GetDirectoryName(f.Key) == folder).Select(f => (f.Key, Path.GetFileName(f.Key), f.Value)).OrderBy(f => f.Item2, StringComparer.Ordinal);

    /// <summary>This host's NetworkManager version (`NetworkManager --version`); null when it is not installed or does not say.</summary>
    public static Version? ReadNetworkManagerVersion(Tools.IProcessRunner runner, CancellationToken cancellationToken)
    {
        if (runner.Locate("NetworkManager") is null)
        {
            return null;
        }

        var result = runner.Run(Tools.ToolCommand.Create("NetworkManager", "--version"), cancellationToken);
        return result.ExitCode == 0 ? ParseVersion(result.StandardOutput) : null;
    }

    /// <summary>
    /// Reads the configuration below <paramref name="root"/> ("/" for this host). A file that cannot be read is a
    /// FileError: deciding without it could write a file that the stack then ignores, or that hides the host's own.
    /// </summary>
    public static NativeConfigFiles Read(string root, IReadOnlyDictionary<string, string?> linkMacs, Version? networkManagerVersion)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string relative)
        {
            var full = Path.Combine(root, relative);
            // A .network linked to /dev/null masks the file of that name: it counts as an empty file.
            if (new FileInfo(full).LinkTarget == "/dev/null")
            {
                files[relative] = string.Empty;
                return;
            }

            if (AtomicFile.ReadAllTextOrNull(full) is { } text)
            {
                files[relative] = text;
            }
        }

        IEnumerable<string> List(string folder, string pattern)
        {
            var full = Path.Combine(root, folder);
            return Directory.Exists(full) ? Directory.EnumerateFiles(full, pattern).Select(f => Path.Combine(folder, Path.GetFileName(f))) : [];
        }

        try
        {
            foreach (var folder in NetworkdFolders)
            {
                foreach (var f in List(folder, "*.network"))
                {
                    Add(f);
                    var dropIns = Path.Combine(root, f + ".d");
                    if (Directory.Exists(dropIns))
                    {
                        foreach (var d in List(f + ".d", "*.conf"))
                        {
                            Add(d);
                        }
                    }
                }
            }

            // LvsDirect's drop-ins outlive the .network they were for (a renamed file): find them to remove them.
            var etc = Path.Combine(root, NetworkdFolders[0]);
            if (Directory.Exists(etc))
            {
                foreach (var d in Directory.EnumerateDirectories(etc, "*.network.d"))
                {
                    var rel = Path.Combine(NetworkdFolders[0], Path.GetFileName(d), NetworkdConfig.DropInName);
                    if (File.Exists(Path.Combine(root, rel)))
                    {
                        Add(rel);
                    }
                }
            }

            foreach (var f in NetplanFolders.SelectMany(folder => List(folder, "*.yaml")))
            {
                Add(f);
            }

            foreach (var f in NetworkManagerFolders.SelectMany(folder => List(folder, "*")))
            {
                Add(f);
            }

            Add(IfupdownInterfaces);
            foreach (var f in List(IfupdownFolder, "*"))
            {
                Add(f);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot read the network configuration below {root}: {ex.Message}", root, ex);
        }

        return new NativeConfigFiles
        {
            Files = files,
            NetworkdRunning = Directory.Exists(Path.Combine(root, "run/systemd/netif/links")),
            NetworkManagerRunning = Directory.Exists(Path.Combine(root, "run/NetworkManager")),
            NetworkManagerVersion = networkManagerVersion,
            LinkMacs = linkMacs,
        };
    }

    /// <summary>`NetworkManager --version` prints "1.42.4" (a distribution may add "-1.el9").</summary>
    public static Version? ParseVersion(string? output)
    {
        var text = output?.Trim().Split('-', ' ')[0];
        return Version.TryParse(text, out var v) ? v : null;
    }
}

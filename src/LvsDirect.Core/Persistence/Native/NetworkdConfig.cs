using System.Net;
using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// systemd-networkd: a link is configured by the first .network file (by file name, across the folders) whose
/// [Match] fits it, and a second file for the same link is ignored. So a VIP goes into a drop-in of that file
/// (`NAME.network.d/90-lvsdirect.conf`, read with the file wherever it lies), never into a .network of its own,
/// except on lo, which no file usually matches: then LvsDirect's own `10-lvsdirect-lo.network` configures it.
/// </summary>
public static class NetworkdConfig
{
    public const string DropInName = "90-lvsdirect.conf";

    public const string LoopbackFileName = "10-lvsdirect-lo.network";

    public const string Header = "# Written by LvsDirect (Save-LvsVip -Target Networkd): the VIPs it manages on this link. Regenerate it, do not edit it.";

    private static readonly string EtcFolder = NativeConfigFiles.NetworkdFolders[0];

    public static bool IsOurs(string? text) => text?.StartsWith(Header, StringComparison.Ordinal) == true;

    /// <summary>
    /// The .network file networkd uses for <paramref name="interfaceName"/> (relative path), ignoring LvsDirect's
    /// own; null when none matches. A [Match] key this reader cannot evaluate makes the answer unknown: it throws,
    /// naming the file, rather than guess which file the link gets.
    /// </summary>
    public static string? MatchingFile(NativeConfigFiles files, string interfaceName)
    {
        var byName = new SortedDictionary<string, (string Path, string Text)>(StringComparer.Ordinal);
        foreach (var folder in NativeConfigFiles.NetworkdFolders)
        {
            foreach (var (path, name, text) in files.In(folder).Where(f => f.Name.EndsWith(".network", StringComparison.Ordinal)))
            {
                byName.TryAdd(name, (path, text));
            }
        }

        foreach (var (path, text) in byName.Values)
        {
            if (text.Length == 0 || IsOurs(text))
            {
                continue;
            }

            if (Matches(text, interfaceName, files.LinkMacs.GetValueOrDefault(interfaceName)) is var m && m is null)
            {
                throw new LvsException(LvsErrorKind.ParseError,
                    $"/{path} has a [Match] that LvsDirect cannot evaluate, so which .network file configures {interfaceName} is unknown. Match it by Name= (or MACAddress=, Type=), or use another -Target.", path);
            }
            else if (m == true)
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>Whether a .network file's [Match] fits the link; null when it uses a key that is not evaluated here.</summary>
    internal static bool? Matches(string text, string interfaceName, string? mac)
    {
        var match = IniText.Parse(text).Where(e => e.Section == "Match").ToList();
        var names = new List<string>();
        var macs = new List<string>();
        var types = new List<string>();
        foreach (var (_, key, value) in match)
        {
            var list = key switch
            {
                "Name" => names,
                "MACAddress" or "PermanentMACAddress" => macs,
                "Type" => types,
                _ => null,
            };
            if (list is null)
            {
                return null;
            }

            // An empty assignment resets the list, as in every systemd list setting.
            if (value.Length == 0)
            {
                list.Clear();
            }
            else
            {
                list.AddRange(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        var type = interfaceName == "lo" ? "loopback" : "ether";
        return Fits(names, interfaceName) && Fits(macs, mac ?? string.Empty, ignoreCase: true) && Fits(types, type);
    }

    /// <summary>A list of globs, all negated by a leading "!" on its first entry (systemd's rule); an empty list fits anything.</summary>
    private static bool Fits(List<string> patterns, string value, bool ignoreCase = false)
    {
        if (patterns.Count == 0)
        {
            return true;
        }

        var invert = patterns[0].StartsWith('!');
        var any = patterns.Select(p => p.TrimStart('!')).Any(p => Glob(p, value, ignoreCase));
        return invert ? !any : any;
    }

    /// <summary>fnmatch(3) as systemd uses it: `*`, `?` and `[…]` classes (with ranges and a leading `!`).</summary>
    internal static bool Glob(string pattern, string value, bool ignoreCase)
    {
        var p = ignoreCase ? pattern.ToLowerInvariant() : pattern;
        var v = ignoreCase ? value.ToLowerInvariant() : value;
        return GlobAt(p, 0, v, 0);
    }

    private static bool GlobAt(string p, int pi, string v, int vi)
    {
        while (pi < p.Length)
        {
            switch (p[pi])
            {
                case '*':
                    for (var k = vi; k <= v.Length; k++)
                    {
                        if (GlobAt(p, pi + 1, v, k))
                        {
                            return true;
                        }
                    }

                    return false;
                case '?':
                    if (vi >= v.Length)
                    {
                        return false;
                    }

                    break;
                case '[' when p.IndexOf(']', pi + 1) is var close and > 0:
                    if (vi >= v.Length || !InClass(p[(pi + 1)..close], v[vi]))
                    {
                        return false;
                    }

                    pi = close;
                    break;
                default:
                    if (vi >= v.Length || p[pi] != v[vi])
                    {
                        return false;
                    }

                    break;
            }

            pi++;
            vi++;
        }

        return vi == v.Length;
    }

    private static bool InClass(string set, char c)
    {
        var negate = set.Length > 0 && set[0] is '!' or '^';
        var body = negate ? set[1..] : set;
        var found = false;
        for (var i = 0; i < body.Length; i++)
        {
            if (i + 2 < body.Length && body[i + 1] == '-')
            {
                found |= c >= body[i] && c <= body[i + 2];
                i += 2;
            }
            else
            {
                found |= c == body[i];
            }
        }

        return found != negate;
    }

    /// <summary>
    /// The files for <paramref name="vips"/>: one per link, and every LvsDirect file no VIP needs any more
    /// removed. A link that no .network configures (other than lo) is refused: networkd does not manage it.
    /// </summary>
    public static NativePlan Plan(NativeConfigFiles files, IReadOnlyList<NativeVip> vips)
    {
        var changes = new List<NativeChange>();
        var notes = new List<string>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in vips.GroupBy(v => v.InterfaceName).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var iface = group.Key;
            var matching = MatchingFile(files, iface);
            string path;
            string content;
            var shared = matching is null ? [] : files.LinkMacs.Keys.Where(l => l != iface && MatchingFile(files, l) == matching).Order(StringComparer.Ordinal).ToList();
            if (shared.Count > 0)
            {
                throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                    $"/{matching} configures {iface} and also {string.Join(", ", shared)}, so a drop-in for it would put the VIPs on those links too. Give {iface} a .network file of its own (sorted before /{matching}), or use Export-RcLocal.", matching);
            }

            if (matching is not null)
            {
                path = $"{EtcFolder}/{Path.GetFileName(matching)}.d/{DropInName}";
                content = Render(group, matchLoopback: false);
                notes.Add($"{iface}: a drop-in for /{matching}, the .network file networkd configures {iface} with.");
            }
            else if (iface == "lo")
            {
                path = $"{EtcFolder}/{LoopbackFileName}";
                content = Render(group, matchLoopback: true);
                notes.Add("lo: no .network file configures lo, so LvsDirect's own file does.");
            }
            else
            {
                throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                    $"No .network file configures {iface} (in /{string.Join(", /", NativeConfigFiles.NetworkdFolders)}), so systemd-networkd does not manage it and would ignore a drop-in. Use the -Target that manages {iface} (or -Target Auto), or Export-RcLocal.", iface);
            }

            wanted.Add(path);
            changes.Add(new NativeChange(path, content, NativeModes.Public) { Vips = [.. group] });
        }

        foreach (var (path, _) in OwnFiles(files).Where(f => !wanted.Contains(f.Path)))
        {
            changes.Add(new NativeChange(path, null, NativeModes.Public));
        }

        return new NativePlan(NativeTarget.Networkd, changes, notes);
    }

    /// <summary>LvsDirect's files among <paramref name="files"/>: its drop-ins and its lo file, in /etc/systemd/network.</summary>
    public static IEnumerable<(string Path, string Text)> OwnFiles(NativeConfigFiles files) =>
        files.Files.Where(f => f.Key.StartsWith(EtcFolder + "/", StringComparison.Ordinal)
                               && (Path.GetFileName(f.Key) == DropInName || f.Key == $"{EtcFolder}/{LoopbackFileName}")
                               && IsOurs(f.Value))
            .Select(f => (f.Key, f.Value))
            .OrderBy(f => f.Key, StringComparer.Ordinal);

    /// <summary>
    /// One [Address] section per VIP. Duplicate address detection stays off: every real server holds the VIP, and
    /// ACD's probes and announcements would be ARP for it.
    /// </summary>
    internal static string Render(IEnumerable<NativeVip> vips, bool matchLoopback)
    {
        var text = new StringBuilder(Header).Append('\n');
        if (matchLoopback)
        {
            text.Append("\n[Match]\nName=lo\n");
        }

        foreach (var v in vips.OrderBy(v => v.Address.AddressFamily).ThenBy(v => v.Address.GetAddressBytes(), ByteComparer.Instance))
        {
            text.Append("\n[Address]\n").Append("Address=").Append(v.Cidr).Append('\n');
            if (v.Label is not null)
            {
                text.Append("Label=").Append(v.Label).Append('\n');
            }

            text.Append("DuplicateAddressDetection=none\n");
        }

        return text.ToString();
    }

    /// <summary>The VIPs LvsDirect's networkd files bring up (read back for Test-LvsRealServer).</summary>
    public static IEnumerable<NativePersistedVip> Read(NativeConfigFiles files)
    {
        foreach (var (path, text) in OwnFiles(files))
        {
            var entries = IniText.Parse(text);
            var iface = path.EndsWith(LoopbackFileName, StringComparison.Ordinal)
                ? "lo"
                : InterfaceOfDropIn(files, path);
            if (iface is null)
            {
                continue;
            }

            foreach (var (_, _, value) in entries.Where(e => e.Section == "Address" && e.Key == "Address"))
            {
                if (NativeAddress.TryParse(value, out var address, out var prefix))
                {
                    yield return new NativePersistedVip(address, prefix, iface, NativeTarget.Networkd, "/" + path);
                }
            }
        }
    }

    /// <summary>The link a drop-in applies to: the Name= of its .network file, when that names one link; null when the file is gone.</summary>
    private static string? InterfaceOfDropIn(NativeConfigFiles files, string dropInPath)
    {
        var network = Path.GetFileName(Path.GetDirectoryName(dropInPath)!)[..^2];
        var text = NativeConfigFiles.NetworkdFolders.Select(f => files.Text($"{f}/{network}")).FirstOrDefault(t => t is not null);
        var names = text is null ? [] : IniText.Parse(text).Where(e => e.Section == "Match" && e.Key == "Name").SelectMany(e => e.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        return names.Count == 1 && names[0].IndexOfAny(['*', '?', '[', '!']) < 0 ? names[0]
            : files.LinkMacs.Keys.FirstOrDefault(l => text is not null && Matches(text, l, files.LinkMacs[l]) == true);
    }
}

internal sealed class ByteComparer : IComparer<byte[]>
{
    public static readonly ByteComparer Instance = new();

    public int Compare(byte[]? x, byte[]? y) => ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
}

internal static class NativeAddress
{
    public static bool TryParse(string text, out IPAddress address, out int prefix)
    {
        var value = text.Trim().Trim('"', '\'');
        var slash = value.IndexOf('/');
        address = IPAddress.None;
        prefix = 0;
        if (!IPAddress.TryParse(slash < 0 ? value : value[..slash], out var a))
        {
            return false;
        }

        address = a;
        prefix = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        return slash < 0 || int.TryParse(value[(slash + 1)..], out prefix);
    }
}

using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// netplan: LvsDirect's own YAML file, `90-lvsdirect.yaml` in /etc/netplan, which netplan merges into the
/// definition of the same interface (its `addresses` are appended to those of the host's files). cloud-init's
/// 50-cloud-init.yaml, and every other file, is never written: cloud-init rewrites its own, and the VIPs stay.
/// </summary>
public static class NetplanConfig
{
    public const string FileName = "90-lvsdirect.yaml";

    public const string RelativePath = "etc/netplan/" + FileName;

    public const string Header = "# Written by LvsDirect (Save-LvsVip -Target Netplan): the VIPs it manages, merged into the host's definitions. Regenerate it, do not edit it.";

    private static readonly string[] Sections = ["ethernets", "bonds", "bridges", "vlans", "wifis", "modems", "tunnels", "vrfs", "dummy-devices", "virtual-ethernets"];

    public static bool IsOurs(string? text) => text?.StartsWith(Header, StringComparison.Ordinal) == true;

    /// <summary>
    /// The section and id under which the host's netplan files define <paramref name="interfaceName"/>: its own
    /// name, or an id whose `set-name` gives it that name. Null when no file defines it.
    /// </summary>
    public static (string Section, string Id, string File)? Definition(NativeConfigFiles files, string interfaceName)
    {
        // A file name in a later folder hides the same name in an earlier one; then all are read in name order.
        var byName = new SortedDictionary<string, (string Path, string Text)>(StringComparer.Ordinal);
        foreach (var folder in NativeConfigFiles.NetplanFolders)
        {
            foreach (var (path, name, text) in files.In(folder))
            {
                byName[name] = (path, text);
            }
        }

        foreach (var (path, text) in byName.Values.Where(f => !IsOurs(f.Text)))
        {
            foreach (var (section, id, setName) in Ids(text))
            {
                if (id == interfaceName || setName == interfaceName)
                {
                    return (section, id, path);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The ids of a netplan file, from its block structure (`network:` → section → id → `set-name:`). Flow style
    /// (`ethernets: {eth0: …}`) is not read: such a file is refused, naming it, rather than misread.
    /// </summary>
    internal static IEnumerable<(string Section, string Id, string? SetName)> Ids(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Select(StripComment).Where(l => l.Trim().Length > 0).ToList();
        var result = new List<(string, string, string?)>();
        int? networkIndent = null, sectionIndent = null, idIndent = null;
        string? section = null;
        foreach (var line in lines)
        {
            var indent = line.Length - line.TrimStart().Length;
            var (key, value) = KeyValue(line.Trim());
            if (indent == 0)
            {
                networkIndent = key == "network" ? 0 : null;
                section = null;
                if (key == "network" && value.StartsWith('{'))
                {
                    throw Unreadable();
                }

                continue;
            }

            if (networkIndent is null || key is null)
            {
                continue;
            }

            if (sectionIndent is null || indent <= sectionIndent)
            {
                sectionIndent = indent;
                section = Sections.Contains(key) ? key : null;
                idIndent = null;
                if (section is not null && value.StartsWith('{'))
                {
                    throw Unreadable();
                }

                continue;
            }

            if (section is null)
            {
                continue;
            }

            if (idIndent is null || indent <= idIndent)
            {
                idIndent = indent;
                result.Add((section, key.Trim('"', '\''), null));
                continue;
            }

            if (key == "set-name" && result.Count > 0)
            {
                result[^1] = (result[^1].Item1, result[^1].Item2, value.Trim('"', '\''));
            }
        }

        return result;
    }

    private static LvsException Unreadable() =>
        new(LvsErrorKind.ParseError, "A netplan file writes its network definitions in YAML flow style ({…}), which LvsDirect does not read; write them in block style, or use -Target Networkd.");

    private static string StripComment(string line)
    {
        var hash = line.IndexOf(" #", StringComparison.Ordinal);
        return line.TrimStart().StartsWith('#') ? string.Empty : hash >= 0 ? line[..hash] : line;
    }

    private static (string? Key, string Value) KeyValue(string line)
    {
        if (line.StartsWith('-'))
        {
            return (null, line);
        }

        var colon = line.IndexOf(':');
        return colon <= 0 ? (null, line) : (line[..colon].Trim(), line[(colon + 1)..].Trim());
    }

    /// <summary>
    /// LvsDirect's file for <paramref name="vips"/> (removed when there are none). An interface no netplan file
    /// defines is refused, except lo, which netplan configures from a definition of its own under `ethernets`.
    /// </summary>
    public static NativePlan Plan(NativeConfigFiles files, IReadOnlyList<NativeVip> vips)
    {
        var notes = new List<string>();
        var bySection = new SortedDictionary<string, SortedDictionary<string, List<NativeVip>>>(StringComparer.Ordinal);
        foreach (var group in vips.GroupBy(v => v.InterfaceName))
        {
            var definition = Definition(files, group.Key);
            if (definition is null && group.Key != "lo")
            {
                throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                    $"No netplan file (in /{string.Join(", /", NativeConfigFiles.NetplanFolders)}) defines {group.Key}, so netplan does not manage it. Use the -Target that manages {group.Key} (or -Target Auto), or Export-RcLocal.", group.Key);
            }

            var (section, id) = definition is { } d ? (d.Section, d.Id) : ("ethernets", "lo");
            notes.Add(definition is { } f ? $"{group.Key}: merged into {section}.{id} of /{f.File}." : "lo: a definition of its own under ethernets.");
            if (!bySection.TryGetValue(section, out var ids))
            {
                bySection[section] = ids = new SortedDictionary<string, List<NativeVip>>(StringComparer.Ordinal);
            }

            ids[id] = [.. group];
        }

        var existing = files.Text(RelativePath);
        if (existing is not null && !IsOurs(existing))
        {
            throw new LvsException(LvsErrorKind.FileError, $"/{RelativePath} exists and was not written by LvsDirect; it is left as it is. Remove or rename it, then save again.", RelativePath);
        }

        var changes = new List<NativeChange>();
        if (vips.Count > 0)
        {
            changes.Add(new NativeChange(RelativePath, Render(bySection), NativeModes.Private) { Vips = vips });
        }
        else if (existing is not null)
        {
            changes.Add(new NativeChange(RelativePath, null, NativeModes.Private));
        }

        return new NativePlan(NativeTarget.Netplan, changes, notes);
    }

    private static string Render(SortedDictionary<string, SortedDictionary<string, List<NativeVip>>> bySection)
    {
        var text = new StringBuilder(Header).Append("\nnetwork:\n  version: 2\n");
        foreach (var (section, ids) in bySection)
        {
            text.Append("  ").Append(section).Append(":\n");
            foreach (var (id, vips) in ids)
            {
                text.Append("    \"").Append(id).Append("\":\n      addresses:\n");
                foreach (var v in vips.OrderBy(v => v.Address.AddressFamily).ThenBy(v => v.Address.GetAddressBytes(), ByteComparer.Instance))
                {
                    text.Append("        - \"").Append(v.Cidr).Append("\"\n");
                }
            }
        }

        return text.ToString();
    }

    /// <summary>The VIPs LvsDirect's netplan file brings up, by the interface its id names (read back for Test-LvsRealServer).</summary>
    public static IEnumerable<NativePersistedVip> Read(NativeConfigFiles files)
    {
        var text = files.Text(RelativePath);
        if (!IsOurs(text))
        {
            yield break;
        }

        string? id = null;
        foreach (var line in text!.Split('\n'))
        {
            if (line.StartsWith("    \"", StringComparison.Ordinal) && line.TrimEnd().EndsWith("\":", StringComparison.Ordinal))
            {
                id = line.Trim()[1..^2];
                var defined = Definition(files, id);
                id = defined is { } d && d.Id == id && Ids(files.Text(d.File) ?? string.Empty).FirstOrDefault(i => i.Id == id).SetName is { } setName ? setName : id;
            }
            else if (id is not null && line.StartsWith("        - ", StringComparison.Ordinal)
                     && NativeAddress.TryParse(line.Trim()[2..], out var address, out var prefix))
            {
                yield return new NativePersistedVip(address, prefix, id, NativeTarget.Netplan, "/" + RelativePath);
            }
        }
    }
}

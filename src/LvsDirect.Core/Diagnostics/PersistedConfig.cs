using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Diagnostics;

/// <summary>A VIP address as a boot-time file adds it (`ip addr replace VIP/32 dev eth0` in the rc.local block).</summary>
public sealed record PersistedAddress(IPAddress Address, int PrefixLength, string InterfaceName);

/// <summary>
/// What comes back at boot: the LvsDirect block of rc.local (addresses, arptables rules, sysctls), the saved arptables
/// rules, and the sysctl configuration files. Read as data, never run.
/// </summary>
public sealed partial record PersistedConfig
{
    public string? RcLocalPath { get; init; }

    /// <summary>False when rc.local does not exist.</summary>
    public bool RcLocalExists { get; init; }

    /// <summary>Under systemd, rc-local.service runs rc.local only when it is executable.</summary>
    public bool RcLocalExecutable { get; init; }

    /// <summary>False when rc.local has no LvsDirect block (or no rc.local at all).</summary>
    public bool HasBlock { get; init; }

    /// <summary>
    /// Why the block would not run at boot (not executable, no or a CRLF `#!` line, after an exit, inside a
    /// here-document or function); null when it would. What it holds then comes back at no boot.
    /// </summary>
    public string? BlockProblem { get; init; }

    public IReadOnlyList<PersistedAddress> RcAddresses { get; init; } = [];

    /// <summary>The `arptables -A …` lines of the block, parsed like saved rules.</summary>
    public ArptablesRuleSet? RcRules { get; init; }

    public string? SavedRulesPath { get; init; }

    /// <summary>Files that exist but could not be read (permissions): what they hold is unknown, not absent.</summary>
    public IReadOnlyList<string> Unreadable { get; init; } = [];

    /// <summary>The saved arptables rules (arptables-save format); null when the file does not exist.</summary>
    public ArptablesRuleSet? SavedRules { get; init; }

    /// <summary>The ARP sysctls the host sets at boot (sysctl.d files, then sysctl.conf, then the rc.local block).</summary>
    public IReadOnlyDictionary<(string Conf, string Key), int> BootSysctls { get; init; } = new Dictionary<(string, string), int>();

    /// <summary>The nftables method's boot file and include; null when not checked.</summary>
    public NftPersistence? Nft { get; init; }

    /// <summary>The VIPs LvsDirect's files in the network stack's own configuration bring up (Save-LvsVip).</summary>
    public IReadOnlyList<Persistence.Native.NativePersistedVip> NativeVips { get; init; } = [];

    // A line of the block may gate the command on its suppression: `[ "$lvsdirect_arp" = no ] || ip addr replace …`.
    [GeneratedRegex(@"(?:^|\|\|\s*)ip\s+(?:-\S+\s+)*addr(?:ess)?\s+(?:replace|add)\s+(?<addr>\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(?:/(?<prefix>\d{1,3}))?\s+dev\s+(?<dev>\S+)")]
    private static partial Regex IpAddrLine();

    // `arptables -A …` alone (older blocks) or after a test: `arptables -C … 2>/dev/null || arptables -A … || lvsdirect_arp=no`.
    [GeneratedRegex(@"(?:^|\|\|\s*)arptables\s+(?<rule>(?:-A|--append)\s+[^|;&>]*?)\s*(?:2>\s*/dev/null\s*)?(?:\|\||$)")]
    private static partial Regex ArptablesAppendLine();

    [GeneratedRegex(@"net[./]ipv4[./]conf[./](?<conf>[^./\s=]+)[./](?<key>arp_ignore|arp_announce|rp_filter)\s*=\s*(?<value>\d+)")]
    private static partial Regex SysctlSetting();

    /// <summary>
    /// Reads what boots will restore. <paramref name="sysctlFiles"/> are in the order systemd-sysctl applies them
    /// (later wins); missing files are skipped.
    /// </summary>
    public static PersistedConfig Read(string? rcLocalPath, string? savedRulesPath, IEnumerable<string> sysctlFiles)
    {
        var unreadable = new List<string>();
        string? ReadOrNull(string? path)
        {
            try
            {
                return path is null ? null : AtomicFile.ReadAllTextOrNull(path);
            }
            catch (LvsException ex) when (ex.Kind == LvsErrorKind.FileError)
            {
                // Save-ArpSuppression writes its file 0600: without root a diagnosis must go on without it.
                unreadable.Add(path!);
                return null;
            }
        }

        var sysctls = ParseSysctlFiles(sysctlFiles.Select(ReadOrNull));
        var rc = ReadOrNull(rcLocalPath);
        var saved = ReadOrNull(savedRulesPath);
        var executable = rc is not null
            && (File.GetUnixFileMode(rcLocalPath!) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        return Parse(rcLocalPath, rc, executable, savedRulesPath, saved, sysctls) with { Unreadable = unreadable };
    }

    /// <summary>
    /// When rc.local holds no LvsDirect block, the boot file may be LvsDirect's systemd unit instead
    /// (Export-RcLocal -Target SystemdUnit): its ExecStart commands are read like the block's lines, and the
    /// unit counts as the boot file. A unit LvsDirect did not write is ignored.
    /// </summary>
    public static PersistedConfig WithSystemdUnit(PersistedConfig rc, string unitPath, string? unitText)
    {
        if (rc.HasBlock || unitText is null || !Persistence.SystemdUnit.IsOurs(unitText))
        {
            return rc;
        }

        var commands = unitText.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))
            .Select(l => l["ExecStart=".Length..].TrimStart('-'))
            .Select(l => l.Split(' ', 2) is [var program, .. var rest] ? Path.GetFileName(program) + (rest.Length > 0 ? " " + rest[0] : string.Empty) : l);
        var block = string.Join('\n', new[] { RcLocal.BeginMarker }.Concat(commands).Append(RcLocal.EndMarker));
        var unit = Parse(unitPath, block, rcLocalExecutable: true, null, null);
        var sysctls = new Dictionary<(string Conf, string Key), int>(rc.BootSysctls);
        foreach (var (key, value) in unit.BootSysctls)
        {
            sysctls[key] = value;
        }

        return rc with
        {
            RcLocalPath = unitPath,
            RcLocalExists = true,
            RcLocalExecutable = true,
            HasBlock = unit.HasBlock,
            BlockProblem = null,
            RcAddresses = unit.RcAddresses,
            RcRules = unit.RcRules,
            BootSysctls = sysctls,
        };
    }

    /// <summary>Builds the view from file contents (null: the file does not exist).</summary>
    public static PersistedConfig Parse(
        string? rcLocalPath,
        string? rcLocalText,
        bool rcLocalExecutable,
        string? savedRulesPath,
        string? savedRulesText,
        IDictionary<(string Conf, string Key), int>? bootSysctls = null)
    {
        var sysctls = new Dictionary<(string, string), int>(bootSysctls ?? new Dictionary<(string, string), int>());
        var block = BlockLines(rcLocalText);
        var addresses = new List<PersistedAddress>();
        var ruleLines = new List<string>();
        foreach (var line in block)
        {
            var ip = IpAddrLine().Match(line);
            if (ip.Success && IPAddress.TryParse(ip.Groups["addr"].Value, out var a))
            {
                var prefix = ip.Groups["prefix"].Success ? int.Parse(ip.Groups["prefix"].Value, CultureInfo.InvariantCulture)
                    : a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
                addresses.Add(new PersistedAddress(a, prefix, ip.Groups["dev"].Value));
                continue;
            }

            var arp = ArptablesAppendLine().Match(line);
            if (arp.Success)
            {
                ruleLines.Add(arp.Groups["rule"].Value);
            }
        }

        ApplySysctls(sysctls, block.Where(l => l.StartsWith("sysctl", StringComparison.Ordinal)));
        return new PersistedConfig
        {
            RcLocalPath = rcLocalPath,
            RcLocalExists = rcLocalText is not null,
            RcLocalExecutable = rcLocalExecutable,
            HasBlock = block.Count > 0,
            BlockProblem = rcLocalText is null ? null : RcLocal.WhyBlockCannotRun(rcLocalText, rcLocalExecutable),
            RcAddresses = addresses,
            RcRules = ruleLines.Count > 0 ? ArptablesRuleSet.Parse(string.Join('\n', ruleLines)) : null,
            SavedRulesPath = savedRulesPath,
            SavedRules = savedRulesText is null ? null : ArptablesRuleSet.Parse(savedRulesText),
            BootSysctls = sysctls,
        };
    }

    /// <summary>The folders systemd-sysctl reads *.conf files from, the earlier overriding a file of the same name.</summary>
    public static IReadOnlyList<string> SysctlFolders { get; } = ["etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d", "lib/sysctl.d"];

    /// <summary>The sysctl files systemd-sysctl reads, in the order it applies them (by file name; /etc overrides /usr).</summary>
    public static IReadOnlyList<string> DefaultSysctlFiles(string root = "/") =>
        OrderSysctlFiles(SysctlFolders.Select(f => Path.Combine(root, f)).Where(Directory.Exists).SelectMany(f => Directory.EnumerateFiles(f, "*.conf")), root);

    /// <summary>
    /// Puts sysctl files (of any host: a remote one lists its own) in the order systemd-sysctl applies them: by
    /// file name, a name in an earlier folder hiding the same name in a later one, then /etc/sysctl.conf.
    /// </summary>
    public static IReadOnlyList<string> OrderSysctlFiles(IEnumerable<string> files, string root = "/")
    {
        var folders = SysctlFolders.Select(f => Path.Combine(root, f)).ToList();
        var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
        // Each file's folder rank once; a stable sort keeps files of one folder in their given order.
        var ranked = files.Select(f => (File: f, Rank: folders.IndexOf(Path.GetDirectoryName(f) ?? string.Empty)));
        foreach (var (file, _) in ranked.Where(r => r.Rank >= 0).OrderBy(r => r.Rank))
        {
            byName.TryAdd(Path.GetFileName(file), file);
        }

        var ordered = byName.Values.ToList();
        var conf = Path.Combine(root, "etc", "sysctl.conf");
        if (!ordered.Any(f => Path.GetFullPath(f) == Path.GetFullPath(conf)))
        {
            ordered.Add(conf);
        }

        return ordered;
    }

    /// <summary>The settings sysctl files give, applied in order (later wins); a null text is a missing file.</summary>
    public static Dictionary<(string Conf, string Key), int> ParseSysctlFiles(IEnumerable<string?> textsInOrder)
    {
        var sysctls = new Dictionary<(string, string), int>();
        foreach (var text in textsInOrder.OfType<string>())
        {
            ApplySysctls(sysctls, text.Split('\n').Where(l => !l.TrimStart().StartsWith('#') && !l.TrimStart().StartsWith(';')));
        }

        return sysctls;
    }

    /// <summary>The value boots give conf/<paramref name="conf"/>/<paramref name="key"/>, or null when nothing sets it.</summary>
    public int? BootSysctl(string conf, string key) => BootSysctls.TryGetValue((conf, key), out var v) ? v : null;

    private static void ApplySysctls(Dictionary<(string, string), int> sysctls, IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            foreach (Match m in SysctlSetting().Matches(line))
            {
                sysctls[(m.Groups["conf"].Value, m.Groups["key"].Value)] = int.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
    }

    private static List<string> BlockLines(string? text)
    {
        if (text is null)
        {
            return [];
        }

        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var begin = lines.IndexOf(RcLocal.BeginMarker);
        var end = lines.IndexOf(RcLocal.EndMarker);
        return begin < 0 || end < begin ? [] : lines.Skip(begin + 1).Take(end - begin - 1).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToList();
    }
}

/// <summary>
/// The nftables method at boot: LvsDirect's file with the table (Save-ArpSuppression -Method Nftables) and
/// whether a host nftables configuration includes it. Read as text, never loaded.
/// </summary>
public sealed partial record NftPersistence
{
    public required string FilePath { get; init; }

    /// <summary>The table's VIPs as the file recreates them; null when the file does not exist (or cannot be read).</summary>
    public IReadOnlyList<NftArpEntry>? Entries { get; init; }

    public bool Unreadable { get; init; }

    /// <summary>The configuration that includes the file; null when none does.</summary>
    public string? IncludedFrom { get; init; }

    /// <summary>The configurations looked at (those that exist).</summary>
    public IReadOnlyList<string> Configs { get; init; } = [];

    [GeneratedRegex(@"arp daddr ip (?<vip>\d{1,3}(?:\.\d{1,3}){3}) drop")]
    private static partial Regex DropLine();

    [GeneratedRegex(@"arp saddr ip (?<vip>\d{1,3}(?:\.\d{1,3}){3}) arp saddr ip set (?<rip>\d{1,3}(?:\.\d{1,3}){3})")]
    private static partial Regex MangleLine();

    /// <summary>Null when <paramref name="filePath"/> is null (not checked).</summary>
    public static NftPersistence? Read(string? filePath, IEnumerable<string> configPaths)
    {
        if (filePath is null)
        {
            return null;
        }

        string? text = null;
        var unreadable = false;
        try
        {
            text = AtomicFile.ReadAllTextOrNull(filePath);
        }
        catch (LvsException ex) when (ex.Kind == LvsErrorKind.FileError)
        {
            unreadable = true;
        }

        var configs = new List<(string Path, string? Text)>();
        foreach (var c in configPaths)
        {
            try
            {
                var t = AtomicFile.ReadAllTextOrNull(c);
                if (t is not null)
                {
                    configs.Add((c, t));
                }
            }
            catch (LvsException ex) when (ex.Kind == LvsErrorKind.FileError)
            {
                configs.Add((c, null));
            }
        }

        return Parse(filePath, text, configs) with { Unreadable = unreadable };
    }

    /// <summary>Builds the view from the file's text (null: missing) and the configurations' texts.</summary>
    public static NftPersistence Parse(string filePath, string? text, IReadOnlyList<(string Path, string? Text)> configs)
    {
        List<NftArpEntry>? entries = null;
        if (text is not null)
        {
            var drops = DropLine().Matches(text).Select(m => IPAddress.Parse(m.Groups["vip"].Value)).ToHashSet();
            var mangles = MangleLine().Matches(text).ToDictionary(m => IPAddress.Parse(m.Groups["vip"].Value), m => IPAddress.Parse(m.Groups["rip"].Value));
            entries = drops.Union(mangles.Keys).Select(v => new NftArpEntry(v, drops.Contains(v), mangles.GetValueOrDefault(v))).ToList();
        }

        var include = NftConf.IncludeLine(filePath);
        return new NftPersistence
        {
            FilePath = filePath,
            Entries = entries,
            Configs = configs.Select(c => c.Path).ToList(),
            IncludedFrom = configs.FirstOrDefault(c => c.Text?.Split('\n').Any(l => l.Trim() == include) == true).Path,
        };
    }
}

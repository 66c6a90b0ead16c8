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

    /// <summary>The commands the boot file (the rc.local block, or LvsDirect's unit) runs, read back into the boot model.</summary>
    public BootCommands Boot { get; init; } = BootCommands.Empty;

    public IReadOnlyList<PersistedAddress> RcAddresses => Boot.Addresses.Select(a => new PersistedAddress(a.Address, a.PrefixLength, a.InterfaceName)).ToList();

    /// <summary>The boot file's arptables rules, parsed like saved rules; null when it has none.</summary>
    public ArptablesRuleSet? RcRules => Boot.RuleSet;

    /// <summary>The REDIRECT rules the boot file adds.</summary>
    public IReadOnlyList<RedirectRule> BootRedirects => Boot.Redirects.Select(r => r.Rule).ToList();

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
    /// (Export-RcLocal -Target SystemdUnit): its commands are read into the same boot model, and the unit
    /// counts as the boot file. A unit LvsDirect did not write is ignored.
    /// </summary>
    public static PersistedConfig WithSystemdUnit(PersistedConfig rc, string unitPath, string? unitText)
    {
        if (rc.HasBlock || !SystemdUnit.IsOurs(unitText))
        {
            return rc;
        }

        var boot = SystemdUnit.Read(unitText);
        return rc with
        {
            RcLocalPath = unitPath,
            RcLocalExists = true,
            RcLocalExecutable = true,
            HasBlock = boot.Commands.Count > 0,
            BlockProblem = null,
            Boot = boot,
            BootSysctls = WithBootSysctls(rc.BootSysctls, boot),
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
        var boot = RcLocal.ReadBlock(rcLocalText);
        return new PersistedConfig
        {
            RcLocalPath = rcLocalPath,
            RcLocalExists = rcLocalText is not null,
            RcLocalExecutable = rcLocalExecutable,
            HasBlock = RcLocal.BlockLines(rcLocalText).Count > 0,
            BlockProblem = rcLocalText is null ? null : RcLocal.WhyBlockCannotRun(rcLocalText, rcLocalExecutable),
            Boot = boot,
            SavedRulesPath = savedRulesPath,
            SavedRules = savedRulesText is null ? null : ArptablesRuleSet.Parse(savedRulesText),
            BootSysctls = WithBootSysctls(new Dictionary<(string, string), int>(bootSysctls ?? new Dictionary<(string, string), int>()), boot),
        };
    }

    /// <summary>The sysctl files' settings with the boot file's on top: it runs after systemd-sysctl.</summary>
    private static Dictionary<(string Conf, string Key), int> WithBootSysctls(IReadOnlyDictionary<(string Conf, string Key), int> files, BootCommands boot)
    {
        var sysctls = new Dictionary<(string, string), int>(files);
        foreach (var (key, value) in boot.Sysctls?.Settings ?? [])
        {
            sysctls[(key.Conf, key.Setting)] = value;
        }

        return sysctls;
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

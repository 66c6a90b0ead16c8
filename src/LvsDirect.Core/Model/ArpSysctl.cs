using System.Globalization;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Model;

/// <summary>One arp_ignore/arp_announce setting: "all" or an interface, and the setting's name.</summary>
public sealed record SysctlKey(string Conf, string Setting)
{
    public const string ArpIgnore = "arp_ignore";
    public const string ArpAnnounce = "arp_announce";

    /// <summary>
    /// The sysctl name. An interface name may contain dots (eth0.100), which sysctl(8) spells with a slash so
    /// they are not taken for path separators.
    /// </summary>
    public string Name => $"net.ipv4.conf.{Conf.Replace('.', '/')}.{Setting}";

    /// <summary>
    /// The value the sysctl method needs: arp_ignore=1 (answer only for addresses on the receiving interface, so
    /// not for a VIP on lo) and arp_announce=2 (never say "tell VIP" in the host's own requests).
    /// </summary>
    public int Target => Setting == ArpIgnore ? 1 : 2;

    public override string ToString() => Name;

    /// <summary>Parses "net.ipv4.conf.eth0/100.arp_ignore"; null for any other name.</summary>
    public static SysctlKey? TryParse(string name)
    {
        const string prefix = "net.ipv4.conf.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var setting in new[] { ArpIgnore, ArpAnnounce })
        {
            var suffix = "." + setting;
            if (name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > prefix.Length + suffix.Length)
            {
                return new SysctlKey(name[prefix.Length..^suffix.Length].Replace('/', '.'), setting);
            }
        }

        return null;
    }

    /// <summary>
    /// The four settings the sysctl method raises: on "all" and on the interface facing the director. The
    /// kernel uses the larger of conf/all and conf/&lt;iface&gt;, so "all" covers every interface and the
    /// interface's own value keeps it covered if someone lowers "all" later.
    /// </summary>
    public static IReadOnlyList<SysctlKey> For(string facingInterface) =>
        new[] { "all", facingInterface }.Distinct().SelectMany(c => new[] { new SysctlKey(c, ArpIgnore), new SysctlKey(c, ArpAnnounce) }).ToList();
}

/// <summary>
/// The arp_ignore/arp_announce values of every interface, as `sysctl` prints them. The values are per network
/// namespace, like addresses.
/// </summary>
public sealed class ArpSysctls
{
    private readonly Dictionary<SysctlKey, int> _values;

    public ArpSysctls(IReadOnlyDictionary<SysctlKey, int> values)
    {
        _values = new Dictionary<SysctlKey, int>(values);
    }

    /// <summary>Every arp_ignore and arp_announce under net.ipv4.conf, one process, no root needed.</summary>
    public static ToolCommand ReadCommand { get; } = new("sysctl", ["-r", @"\.arp_(ignore|announce)$", "net.ipv4.conf"]);

    public IReadOnlyDictionary<SysctlKey, int> Values => _values;

    /// <summary>Parses "net.ipv4.conf.all.arp_ignore = 1" lines; other lines are ignored.</summary>
    public static ArpSysctls Parse(string text)
    {
        var values = new Dictionary<SysctlKey, int>();
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq < 0)
            {
                continue;
            }

            var key = SysctlKey.TryParse(line[..eq].Trim());
            if (key is not null && int.TryParse(line[(eq + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                values[key] = v;
            }
        }

        return new ArpSysctls(values);
    }

    /// <summary>The configured value; a setting sysctl did not print counts as the kernel default, 0.</summary>
    public int Get(SysctlKey key) => _values.TryGetValue(key, out var v) ? v : 0;

    /// <summary>What the kernel applies on <paramref name="interfaceName"/>: the larger of conf/all and conf/&lt;iface&gt;.</summary>
    public int Effective(string interfaceName, string setting) =>
        Math.Max(Get(new SysctlKey("all", setting)), Get(new SysctlKey(interfaceName, setting)));

    /// <summary>
    /// How well addresses on lo are kept out of ARP on the given interfaces (every one must hold): arp_ignore
    /// keeps the host from answering requests, arp_announce keeps the VIP out of its own requests.
    /// </summary>
    public SuppressionState StateOn(IEnumerable<string> arpInterfaces)
    {
        var names = arpInterfaces.ToList();
        var ignores = names.All(n => Effective(n, SysctlKey.ArpIgnore) >= 1);
        var announces = names.All(n => Effective(n, SysctlKey.ArpAnnounce) >= 2);
        return (ignores, announces) switch
        {
            (true, true) => SuppressionState.Complete,
            (true, false) => SuppressionState.InputOnly,
            (false, true) => SuppressionState.OutputOnly,
            _ => SuppressionState.None,
        };
    }

    /// <summary>
    /// What persistence writes for the sysctl method: the settings on "all" and the facing interface, each at
    /// its live value when that is already stricter than the method needs.
    /// </summary>
    public static IReadOnlyList<(SysctlKey Key, int Value)> Persisted(ArpSysctls? live, string facingInterface) =>
        SysctlKey.For(facingInterface).Select(k => (k, Math.Max(k.Target, live?.Get(k) ?? 0))).ToList();

    /// <summary>The settings as `sysctl -w` arguments and sysctl.d lines print them, for output objects.</summary>
    public IReadOnlyList<string> Describe(IEnumerable<SysctlKey> keys) =>
        keys.Select(k => $"{k.Name} = {Get(k)}").ToList();
}

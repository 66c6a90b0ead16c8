using System.Globalization;

namespace LvsDirect.Core.Diagnostics;

/// <summary>
/// The per-interface IPv4 sysctls that decide who answers ARP and which packets rp_filter drops, as
/// /proc/sys/net/ipv4/conf/&lt;all|default|iface&gt;/&lt;key&gt; hold them. For all three keys the kernel uses the larger
/// of conf/all and conf/&lt;iface&gt;, which is why a value set on lo alone changes nothing for eth0.
/// </summary>
public sealed class InterfaceSysctls
{
    public const string ArpIgnore = "arp_ignore";
    public const string ArpAnnounce = "arp_announce";
    public const string RpFilter = "rp_filter";

    public static readonly string[] Keys = [ArpIgnore, ArpAnnounce, RpFilter];

    private readonly Dictionary<(string Conf, string Key), int> _values;

    public InterfaceSysctls(IEnumerable<KeyValuePair<(string Conf, string Key), int>> values)
    {
        _values = new Dictionary<(string, string), int>(values);
    }

    /// <summary>The value of conf/<paramref name="conf"/>/<paramref name="key"/>; 0 (the kernel default) when unknown.</summary>
    public int Get(string conf, string key) => _values.TryGetValue((conf, key), out var v) ? v : 0;

    public bool Has(string conf, string key) => _values.ContainsKey((conf, key));

    /// <summary>What the kernel applies on <paramref name="interfaceName"/>: max(conf/all, conf/iface).</summary>
    public int Effective(string interfaceName, string key) => Math.Max(Get("all", key), Get(interfaceName, key));

    /// <summary>Reads every interface's values under <paramref name="root"/> (normally /proc/sys/net/ipv4/conf).</summary>
    public static InterfaceSysctls Read(string root = "/proc/sys/net/ipv4/conf") => Parse(ReadText(root));

    /// <summary>
    /// The values under <paramref name="root"/> as "conf key value" lines, the text the agentless script prints
    /// for its sysctl read, so both transports go through <see cref="Parse"/>.
    /// </summary>
    public static string ReadText(string root = "/proc/sys/net/ipv4/conf")
    {
        var lines = new System.Text.StringBuilder();
        if (!Directory.Exists(root))
        {
            return string.Empty;
        }

        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var conf = Path.GetFileName(dir);
            foreach (var key in Keys)
            {
                try
                {
                    var value = File.ReadAllText(Path.Combine(dir, key)).Trim();
                    lines.Append(conf).Append(' ').Append(key).Append(' ').Append(value).Append('\n');
                }
                catch (IOException)
                {
                    // An interface that vanished while we read: it no longer matters.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return lines.ToString();
    }

    /// <summary>"conf key value" lines; any other line is skipped.</summary>
    public static InterfaceSysctls Parse(string text)
    {
        var values = new Dictionary<(string Conf, string Key), int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                values[(parts[0], parts[1])] = v;
            }
        }

        return new InterfaceSysctls(values);
    }
}

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
    public static InterfaceSysctls Read(string root = "/proc/sys/net/ipv4/conf")
    {
        var values = new Dictionary<(string, string), int>();
        if (!Directory.Exists(root))
        {
            return new InterfaceSysctls(values);
        }

        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var conf = Path.GetFileName(dir);
            foreach (var key in Keys)
            {
                try
                {
                    var text = File.ReadAllText(Path.Combine(dir, key)).Trim();
                    if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
                    {
                        values[(conf, key)] = v;
                    }
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

        return new InterfaceSysctls(values);
    }
}

using LvsDirect.Core.Model;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// The sysctl method's boot persistence: a file of its own in /etc/sysctl.d, applied by systemd-sysctl at boot
/// (and, for per-interface settings, by udev when the interface appears).
/// </summary>
public static class SysctlConf
{
    public const string DefaultPath = "/etc/sysctl.d/90-lvsdirect-arp.conf";

    public const string Header = "# Written by LvsDirect (Save-ArpSuppression -Method Sysctl): keeps the VIPs on lo out of ARP. Regenerate it, do not edit it.";

    public static string Render(IEnumerable<(SysctlKey Key, int Value)> settings) =>
        Header + "\n" + string.Concat(settings.Select(s => $"{s.Key.Name} = {s.Value}\n"));

    /// <summary>True when the file is one LvsDirect wrote, so it may be removed when no VIP needs it any more.</summary>
    public static bool IsOurs(string? content) => content?.StartsWith(Header, StringComparison.Ordinal) == true;
}

using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// Boot persistence of the nftables method: the table in a file of LvsDirect's own, included from the host's
/// nftables configuration (Debian's /etc/nftables.conf, Red Hat's /etc/sysconfig/nftables.conf), which
/// nftables.service loads before the network comes up.
/// </summary>
public static class NftConf
{
    public const string DefaultPath = "/etc/lvsdirect/arp.nft";

    public const string Header = "# Written by LvsDirect (Save-ArpSuppression -Method Nftables): the table arp lvsdirect. Regenerate it, do not edit it.";

    public static readonly string[] HostConfigs = ["/etc/nftables.conf", "/etc/sysconfig/nftables.conf"];

    public static string? FindHostConfig() => HostConfigs.FirstOrDefault(File.Exists);

    public static string Render(IEnumerable<NftArpEntry> entries) => Header + "\n" + NftArpTable.Render(entries);

    public static string IncludeLine(string path) => $"include \"{path}\"";

    /// <summary>The configuration with our include line at the end (after any `flush ruleset`), or unchanged when it is there.</summary>
    public static string WithInclude(string? config, string path)
    {
        var line = IncludeLine(path);
        var text = config ?? "#!/usr/sbin/nft -f\n";
        if (text.Split('\n').Any(l => l.Trim() == line))
        {
            return text;
        }

        return text + (text.Length == 0 || text.EndsWith('\n') ? string.Empty : "\n") + line + "\n";
    }
}

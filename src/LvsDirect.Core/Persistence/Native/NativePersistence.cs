using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// Save-LvsVip's plan: for each target, the files of LvsDirect's own to write or remove. With Auto every
/// interface goes to the stack that manages it, and the other stacks' LvsDirect files are removed, so a VIP
/// is kept by exactly one of them.
/// </summary>
public static class NativePersistence
{
    public static readonly NativeTarget[] Stacks = [NativeTarget.Networkd, NativeTarget.Netplan, NativeTarget.NetworkManager, NativeTarget.Ifupdown];

    public static IReadOnlyList<NativePlan> Plan(NativeTarget target, NativeConfigFiles files, IReadOnlyList<NativeVip> vips)
    {
        if (target != NativeTarget.Auto)
        {
            return [NativeDetector.Plan(target, files, vips)];
        }

        var chosen = new Dictionary<string, (NativeTarget Target, string Why)>(StringComparer.Ordinal);
        foreach (var iface in vips.Select(v => v.InterfaceName).Distinct())
        {
            chosen[iface] = NativeDetector.Detect(files, iface) ?? throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                $"No network stack's configuration (netplan, NetworkManager, systemd-networkd, ifupdown) manages {iface} here, so there is nothing to write its VIPs into. Use Export-RcLocal (or Export-RcLocal -Target SystemdUnit) to recreate them at boot.",
                iface);
        }

        return Stacks.Select(stack =>
            {
                var plan = NativeDetector.Plan(stack, files, vips.Where(v => chosen[v.InterfaceName].Target == stack).ToList());
                var why = chosen.Where(c => c.Value.Target == stack).Select(c => $"{c.Key}: Auto chose {stack}, because {c.Value.Why}.");
                return plan with { Notes = [.. why, .. plan.Notes] };
            })
            .Where(p => p.Changes.Count > 0 || p.Notes.Count > 0)
            .ToList();
    }

    /// <summary>
    /// The VIPs LvsDirect's native files below <paramref name="root"/> bring up at boot (none when root is null);
    /// configuration that cannot be read counts as none, so a diagnosis goes on without it.
    /// </summary>
    public static IReadOnlyList<NativePersistedVip> ReadPersisted(string? root, IReadOnlyDictionary<string, string?> linkMacs)
    {
        if (root is null)
        {
            return [];
        }

        try
        {
            return NativeDetector.ReadPersisted(NativeConfigFiles.Read(root, linkMacs, null));
        }
        catch (LvsException ex) when (ex.Kind == LvsErrorKind.FileError)
        {
            return [];
        }
    }

    /// <summary>
    /// The refusal when VIPs would come up at boot before their suppression (<see cref="MissingSuppression"/>);
    /// <paramref name="forceHint"/> names Save-LvsVip's -Force, which Set-LvsRealServer does not have.
    /// </summary>
    public static LvsException SuppressionNotPersisted(IReadOnlyList<(IPAddress Vip, string Why)> missing, bool forceHint) => new(
        LvsErrorKind.SuppressionNotPersisted,
        $"At boot the network stack would bring up VIPs before their ARP suppression, so the host would answer ARP for them: {string.Join(" ", missing.Select(m => m.Why))} Nothing was written{(forceHint ? "; -Force writes anyway." : ".")}",
        string.Join(", ", missing.Select(m => m.Vip)));

    /// <summary>
    /// Why a VIP would come up at boot before its ARP suppression: the suppression of its method is not in the
    /// files that load before the network (saved arptables rules, sysctl.d, the included nftables table). One
    /// message per VIP; an empty list when every VIP is covered.
    /// </summary>
    public static IReadOnlyList<(IPAddress Vip, string Why)> MissingSuppression(IReadOnlyList<NativeVip> vips, BootSuppression boot)
    {
        var missing = new List<(IPAddress, string)>();
        foreach (var v in vips)
        {
            switch (v.Method)
            {
                case ArpMethod.Arptables when boot.SavedRules?.Rules.Any(r => r.Target == "DROP" && v.Address.Equals(r.Destination)) != true:
                    missing.Add((v.Address, boot.SavedRules is null
                        ? $"{v.Address} uses arptables, and no saved rules ({boot.SavedRulesPath}) load at boot: save them first with Save-ArpSuppression (the arptables service loads them before the network)."
                        : $"{v.Address} uses arptables, but the saved rules ({boot.SavedRulesPath}) do not drop ARP requests for it: run Save-ArpSuppression first."));
                    break;
                case ArpMethod.Sysctl when (boot.Sysctls.GetValueOrDefault(("all", "arp_ignore")) < 1 || boot.Sysctls.GetValueOrDefault(("all", "arp_announce")) < 2):
                    missing.Add((v.Address, $"{v.Address} is on lo with the sysctl method, and no sysctl.d file sets net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 at boot: run Save-ArpSuppression -Method Sysctl first."));
                    break;
                case ArpMethod.Nftables when boot.Nft?.Entries?.Any(e => e.VirtualIP.Equals(v.Address) && e.Drop) != true || boot.Nft?.IncludedFrom is null:
                    missing.Add((v.Address, $"{v.Address} uses the nftables method, and its table is not in {boot.Nft?.FilePath ?? NftConf.DefaultPath} included from the nftables configuration: run Save-ArpSuppression -Method Nftables first."));
                    break;
            }
        }

        return missing;
    }
}

/// <summary>The suppression a boot loads before the network, as files (read below the same root as the stack's).</summary>
public sealed record BootSuppression
{
    public string SavedRulesPath { get; init; } = SavedArpRulesTarget.DefaultPath;

    public ArptablesRuleSet? SavedRules { get; init; }

    public IReadOnlyDictionary<(string Conf, string Key), int> Sysctls { get; init; } = new Dictionary<(string, string), int>();

    public NftPersistence? Nft { get; init; }

    /// <summary>Reads them below <paramref name="root"/>; a file that cannot be read counts as missing.</summary>
    public static BootSuppression Read(string root, string savedRulesPath)
    {
        string? ReadOrNull(string path)
        {
            try
            {
                return AtomicFile.ReadAllTextOrNull(path);
            }
            catch (LvsException ex) when (ex.Kind == LvsErrorKind.FileError)
            {
                return null;
            }
        }

        string Under(string path) => Path.Combine(root, path.TrimStart('/'));
        var rules = ReadOrNull(Under(savedRulesPath));
        // The include line names the file as the booted host sees it, so it is matched without the root.
        var nftConfigs = NftConf.HostConfigs.Select(c => (c, ReadOrNull(Under(c)))).Where(c => c.Item2 is not null).ToList();
        var nft = NftPersistence.Parse(NftConf.DefaultPath, ReadOrNull(Under(NftConf.DefaultPath)), nftConfigs);
        return new BootSuppression
        {
            SavedRulesPath = Under(savedRulesPath),
            SavedRules = rules is null ? null : ArptablesRuleSet.Parse(rules),
            Sysctls = PersistedConfig.ParseSysctlFiles(PersistedConfig.DefaultSysctlFiles(root).Select(ReadOrNull)),
            Nft = nft,
        };
    }
}

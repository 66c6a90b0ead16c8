using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>
/// The boot files bring the VIP's live ARP suppression back: the saved rules and rc.local's block for arptables,
/// LvsDirect's nftables file and its include for the nftables method, the sysctl files for the sysctl method.
/// </summary>
public sealed class SuppressionPersistedCheck : VipCheck
{
    public override string Name => CheckNames.SuppressionPersisted;

    public override HostReads Reads => HostReads.Addresses | HostReads.LiveSuppression | HostReads.BootFiles;

    protected override bool AppliesTo(VipSubject vip) => vip.Kind == VipKind.Address;

    protected override RealServerCheck? Check(CheckContext d, VipSubject v)
    {
        var p = d.Persisted;
        var vip = v.Vip;
        var target = v.Target;
        var liveState = d.LiveSuppression(vip);
        if (liveState == SuppressionState.Unknown)
        {
            return null;
        }

        if (d.IsNftMethod(vip))
        {
            return NftPersisted(d, v);
        }

        if (p.Unreadable.Count > 0 && p.SavedRulesPath is not null && p.Unreadable.Contains(p.SavedRulesPath))
        {
            return d.Result(Name, target, CheckStatus.Warning, $"{p.SavedRulesPath} cannot be read, so what it restores at boot is unknown.",
                "Run Test-LvsRealServer as root");
        }

        var liveRip = d.LiveRealIP(vip);
        var liveIn = liveState is SuppressionState.Complete or SuppressionState.InputOnly;
        var places = new List<(string Where, bool In, IPAddress? Rip)>();
        if (p.RcRules is not null && p.BlockProblem is { } problem && (HasInputDrop(p.RcRules, vip) || MangleOf(p.RcRules, vip) is not null))
        {
            // A block that cannot run restores nothing, whatever it says.
            return d.Result(Name, target, CheckStatus.Fail,
                $"The LvsDirect block of {p.RcLocalPath} would restore ARP suppression for {vip} at boot, but it cannot run: {problem}.",
                CheckContext.BlockRemedy(p));
        }

        if (p.RcRules is not null)
        {
            places.Add(($"the LvsDirect block of {p.RcLocalPath}", HasInputDrop(p.RcRules, vip), MangleOf(p.RcRules, vip)));
        }

        if (p.SavedRules is not null)
        {
            places.Add((p.SavedRulesPath ?? "the saved rules", HasInputDrop(p.SavedRules, vip), MangleOf(p.SavedRules, vip)));
        }

        var liveAny = liveState != SuppressionState.None;
        var mentioned = places.Where(x => x.In || x.Rip is not null).ToList();
        if (!liveAny && mentioned.Count == 0)
        {
            return SysctlPersisted(d, v);
        }

        if (!liveAny)
        {
            return d.Result(Name, target, CheckStatus.Fail,
                $"{string.Join(" and ", mentioned.Select(m => m.Where))} restore ARP suppression for {vip} at boot, but none is live now.",
                $"Set-ArpSuppression -VirtualIP {vip} (to restore it now), or Save-ArpSuppression and Export-RcLocal (to drop it from the boot files)");
        }

        var matching = mentioned.Where(m => m.In == liveIn && Equals(m.Rip, liveRip)).ToList();
        var drifted = mentioned.Except(matching).ToList();
        if (drifted.Count > 0)
        {
            return d.Result(Name, target, CheckStatus.Fail,
                string.Join(" ", drifted.Select(m =>
                    $"{m.Where} restores {Describe(m.In, m.Rip)} for {vip} at boot, but live it is {Describe(liveIn, liveRip)}.")),
                RemedyFor(drifted.Select(m => m.Where), p));
        }

        if (matching.Count == 0)
        {
            return d.Result(Name, target, CheckStatus.Fail,
                $"The ARP suppression of {vip} is live but neither saved ({p.SavedRulesPath ?? "no saved rules file"}{(p.SavedRules is null ? " does not exist" : " lacks it")}) nor in rc.local's LvsDirect block: after a reboot the host answers ARP for {vip}.",
                "Save-ArpSuppression, or Export-RcLocal");
        }

        return d.Result(Name, target, CheckStatus.Pass,
            $"{string.Join(" and ", matching.Select(m => m.Where))} restore{(matching.Count == 1 ? "s" : string.Empty)} the live suppression of {vip} ({Describe(liveIn, liveRip)}) at boot.");
    }

    /// <summary>The nftables method at boot: LvsDirect's file recreates the live entry, and the host's nftables configuration includes it.</summary>
    private RealServerCheck? NftPersisted(CheckContext d, VipSubject v)
    {
        var nft = d.Persisted.Nft;
        if (nft is null)
        {
            return null;
        }

        var vip = v.Vip;
        const string fix = "Save-ArpSuppression -Method Nftables";
        var live = d.Snapshot.State.NftEntryFor(vip)!;
        if (nft.Unreadable)
        {
            return d.Result(Name, v.Target, CheckStatus.Warning, $"{nft.FilePath} cannot be read, so what it restores at boot is unknown.", "Run Test-LvsRealServer as root");
        }

        var saved = nft.Entries?.FirstOrDefault(e => e.VirtualIP.Equals(vip));
        if (saved != live)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                nft.Entries is null
                    ? $"{vip} is suppressed by the nftables table arp lvsdirect, but {nft.FilePath} does not exist: after a reboot the host answers ARP for {vip}."
                    : saved is null
                        ? $"{vip} is suppressed by the nftables table arp lvsdirect, but {nft.FilePath} does not recreate it: after a reboot the host answers ARP for {vip}."
                        : $"{nft.FilePath} recreates {vip} with {(saved.Drop ? "the drop rule" : "no drop rule")} and mangle to {saved.MangleTo?.ToString() ?? "nothing"}, but live it is {(live.Drop ? "the drop rule" : "no drop rule")} and mangle to {live.MangleTo?.ToString() ?? "nothing"}.",
                fix);
        }

        if (nft.IncludedFrom is null)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                $"{nft.FilePath} recreates the suppression of {vip}, but no nftables configuration ({(nft.Configs.Count == 0 ? "none exists" : string.Join(", ", nft.Configs))}) includes it: nftables.service never loads it at boot.",
                fix);
        }

        return d.Result(Name, v.Target, CheckStatus.Pass,
            $"{nft.FilePath}, included from {nft.IncludedFrom}, recreates the nftables suppression of {vip} at boot.");
    }

    private RealServerCheck? SysctlPersisted(CheckContext d, VipSubject v)
    {
        var vip = v.Vip;
        if (v.Live.Count == 0 || !d.SysctlMethod(vip, v.Live).Ok)
        {
            return null;
        }

        var p = d.Persisted;
        int Boot(string conf, string key) => p.BootSysctl(conf, key) ?? 0;
        var missing = d.ArpInterfaces
            .Where(i => Math.Max(Boot("all", ArpIgnore), Boot(i, ArpIgnore)) < 1 || Math.Max(Boot("all", ArpAnnounce), Boot(i, ArpAnnounce)) < 2)
            .ToList();
        return d.Result(Name, v.Target, missing.Count == 0 ? CheckStatus.Pass : CheckStatus.Fail,
            missing.Count == 0
                ? "The sysctl files (or rc.local's LvsDirect block) set arp_ignore>=1 and arp_announce=2 at boot."
                : $"arp_ignore/arp_announce are set live but no sysctl file sets them for {string.Join(", ", missing)}: after a reboot the host answers ARP for {vip}.",
            missing.Count == 0 ? null : "Set-ArpSuppression -VirtualIP " + vip + " -Method Sysctl (or put net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.all.arp_announce=2 in /etc/sysctl.d/)");
    }

    private static string Describe(bool input, IPAddress? rip) => (input, rip) switch
    {
        (true, not null) => $"both rules (mangle to {rip})",
        (true, null) => "only the INPUT drop rule",
        (false, not null) => $"only the OUTPUT mangle rule (to {rip})",
        _ => "no rule",
    };

    /// <summary>The commands that rewrite the drifted boot files from the live state.</summary>
    private static string RemedyFor(IEnumerable<string> places, PersistedConfig p)
    {
        var list = places.ToList();
        var commands = new List<string>();
        if (list.Any(w => w == p.SavedRulesPath))
        {
            commands.Add("Save-ArpSuppression");
        }

        if (list.Any(w => w != p.SavedRulesPath))
        {
            commands.Add("Export-RcLocal");
        }

        return string.Join("; ", commands);
    }

    private static bool HasInputDrop(ArptablesRuleSet set, IPAddress vip) => set.Rules.Any(r => CheckContext.IsInputDrop(r, vip));

    private static IPAddress? MangleOf(ArptablesRuleSet set, IPAddress vip) =>
        set.Rules.Where(r => CheckContext.IsOutputMangle(r, vip)).Select(r => r.MangleIpSource).FirstOrDefault();
}

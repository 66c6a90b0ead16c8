using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>
/// Nothing answers ARP for the VIP: both arptables rules (or LvsDirect's nftables table), or the sysctl method in
/// effect as the kernel computes it, or the REDIRECT method with the VIP on no interface.
/// </summary>
public sealed class ArpSuppressionCheck : VipCheck
{
    public override string Name => CheckNames.ArpSuppression;

    public override HostReads Reads => HostReads.Addresses | HostReads.LiveSuppression | HostReads.Redirects;

    protected override bool AppliesTo(VipSubject vip) => vip.Kind != VipKind.IPv6;

    protected override RealServerCheck Check(CheckContext d, VipSubject v)
    {
        if (v.Kind == VipKind.Redirect)
        {
            return d.Result(Name, v.Target, CheckStatus.Pass,
                $"REDIRECT method: {v.Vip} is on no interface, so this host never answers ARP for it.");
        }

        var s = d.Snapshot;
        var vip = v.Vip;
        var rules = d.LiveSuppression(vip);
        if (rules == SuppressionState.Complete)
        {
            return d.Result(Name, v.Target, CheckStatus.Pass,
                $"{d.RuleMethod(vip)} drops ARP requests for {vip} and rewrites it to {d.LiveRealIP(vip)} in outgoing ARP.");
        }

        var sysctl = d.SysctlMethod(vip, v.Live);
        if (sysctl.Ok)
        {
            return d.Result(Name, v.Target, CheckStatus.Pass, $"sysctl method: {sysctl.Why}");
        }

        if (v.Live.Count == 0)
        {
            return d.Result(Name, v.Target, rules == SuppressionState.None ? CheckStatus.Warning : CheckStatus.Fail,
                rules switch
                {
                    SuppressionState.None => $"{vip} is absent and has no ARP suppression either: add it with suppression.",
                    SuppressionState.Unknown => $"{vip} is absent; its arptables rules could not be read ({s.ArpRulesUnknownReason}).",
                    SuppressionState.Shadowed => $"{vip} is absent and its arptables rules would not take effect: {s.State.ShadowFor(vip)}.",
                    _ => $"{vip} is absent and only half of its arptables suppression is in place ({rules}).",
                },
                $"Set-ArpSuppression -VirtualIP {vip}");
        }

        var (status, detail) = rules switch
        {
            SuppressionState.Unknown => (CheckStatus.Warning,
                $"The arptables rules could not be read ({s.ArpRulesUnknownReason}), and the sysctl method is not in effect: {sysctl.Why}"),
            SuppressionState.InputOnly => (CheckStatus.Fail,
                $"Only the INPUT drop rule exists: this host's own ARP requests still say 'tell {vip}' and poison its neighbours' caches."),
            SuppressionState.OutputOnly => (CheckStatus.Fail,
                $"Only the OUTPUT mangle rule exists: this host answers ARP requests for {vip} and takes the director's traffic."),
            SuppressionState.Shadowed => (CheckStatus.Fail,
                $"The arptables rules for {vip} exist but do not take effect: {s.State.ShadowFor(vip)}, so this host may answer ARP for {vip} and take the director's traffic."),
            _ => (CheckStatus.Fail,
                $"Nothing keeps {vip} out of ARP: this host answers ARP requests for it and takes the director's traffic ({sysctl.Why})."),
        };
        return d.Result(Name, v.Target, status, detail,
            rules == SuppressionState.Unknown ? "Run Test-LvsRealServer as root to read the arptables rules"
            : s.State.NftEntryFor(vip) is not null ? $"Set-ArpSuppression -VirtualIP {vip} -Method Nftables"
            : $"Set-ArpSuppression -VirtualIP {vip}");
    }
}

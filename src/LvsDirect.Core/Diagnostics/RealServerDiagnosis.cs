using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;

namespace LvsDirect.Core.Diagnostics;

/// <summary>
/// The checks of Test-LvsRealServer, as pure functions of a <see cref="RealServerSnapshot"/>: every way an LVS-DR
/// real server fails quietly (SPEC §1 and §5) becomes a Fail or Warning naming the command that fixes it.
/// </summary>
public static class RealServerDiagnosis
{
    private static readonly ArptablesDialect[] AllChainNames = [new(ArptablesFlavor.Nft), new(ArptablesFlavor.Jf)];

    public static IReadOnlyList<RealServerCheck> Run(RealServerSnapshot s, DiagnosisRequest request)
    {
        var d = new Context(s, request);
        var vips = request.VirtualIPs ?? DiscoverVips(s);
        if (vips.Count == 0)
        {
            d.Add(CheckNames.VipPresent, "(none)", CheckStatus.Fail,
                "No VIP found: no address has ARP suppression, sits on lo or is a /32 beside an interface's own address, and neither rc.local's LvsDirect block nor the saved arptables rules name one.",
                "New-LvsVip -Address <VIP>, or give -VirtualIP");
        }

        foreach (var vip in vips)
        {
            CheckVip(d, vip);
        }

        CheckSysctlScope(d, vips);
        CheckRcLocalFile(d);
        CheckGateway(d);
        foreach (var service in request.Services)
        {
            CheckListener(d, service);
        }

        return d.Results;
    }

    /// <summary>
    /// The VIPs of a host when none are named: suppressed addresses, global addresses on lo (the sysctl method), and
    /// every VIP its boot files mention, so drift in either direction is found.
    /// </summary>
    public static IReadOnlyList<IPAddress> DiscoverVips(RealServerSnapshot s)
    {
        var result = new List<IPAddress>();
        void Add(IPAddress a)
        {
            if (a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !result.Contains(a))
            {
                result.Add(a);
            }
        }

        foreach (var a in s.State.SuppressedAddresses())
        {
            Add(a);
        }

        foreach (var a in s.State.FindInterface("lo")?.Addresses ?? [])
        {
            if (a.Scope == "global" && !IPAddress.IsLoopback(a.Address))
            {
                Add(a.Address);
            }
        }

        // A /32 beside an interface's own address is a VIP added by hand, perhaps without suppression: exactly the
        // real server that steals the director's traffic, so it must not escape the check.
        foreach (var nic in s.State.Interfaces.Where(i => i.Name != "lo"))
        {
            foreach (var a in nic.Addresses.Where(a => a.PrefixLength == 32 && a.Scope == "global" && !a.Address.Equals(nic.PrimaryIPv4)))
            {
                Add(a.Address);
            }

            // Likewise an IPv6 /128 on an interface: a VIP that answers neighbour solicitations there.
            foreach (var a in nic.Addresses.Where(a => a.PrefixLength == 128 && a.Scope == "global" && a.Address.AddressFamily == AddressFamily.InterNetworkV6))
            {
                Add(a.Address);
            }
        }

        // The REDIRECT method's VIPs are on no interface at all.
        foreach (var r in s.Redirects ?? [])
        {
            Add(r.VirtualIP);
        }

        foreach (var e in s.Persisted.Nft?.Entries ?? [])
        {
            Add(e.VirtualIP);
        }

        foreach (var a in s.Persisted.RcAddresses)
        {
            Add(a.Address);
        }

        foreach (var n in s.Persisted.NativeVips)
        {
            Add(n.Address);
        }

        foreach (var set in new[] { s.Persisted.RcRules, s.Persisted.SavedRules })
        {
            foreach (var r in set?.Rules ?? [])
            {
                var vip = r.Destination ?? r.Source;
                if (vip is not null && SeedRule(r, vip))
                {
                    Add(vip);
                }
            }
        }

        return result;
    }

    private static void CheckVip(Context d, IPAddress vip)
    {
        var s = d.Snapshot;
        var target = vip.ToString();
        var live = s.State.FindAddress(vip).ToList();
        var persisted = s.Persisted.RcAddresses.FirstOrDefault(p => p.Address.Equals(vip));
        if (vip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            CheckIPv6Vip(d, vip, live, persisted);
            return;
        }

        var redirects = (s.Redirects ?? []).Where(r => r.VirtualIP.Equals(vip)).ToList();
        if (live.Count == 0 && redirects.Count > 0)
        {
            var ports = string.Join(", ", redirects.Select(r => $"{RedirectSyntax.ProtocolName(r.Protocol)}/{r.Port}"));
            d.Add(CheckNames.VipPresent, target, CheckStatus.Pass,
                $"{vip} is on no interface, by design: the iptables REDIRECT method (rules with the comment lvsdirect) hands {vip} {ports} to local listeners.");
            d.Add(CheckNames.ArpSuppression, target, CheckStatus.Pass,
                $"REDIRECT method: {vip} is on no interface, so this host never answers ARP for it.");
            CheckVipPersisted(d, vip, live, persisted);
            return;
        }

        if (live.Count == 0)
        {
            var iface = persisted is null ? string.Empty : $" -InterfaceName {persisted.InterfaceName}";
            d.Add(CheckNames.VipPresent, target, CheckStatus.Fail,
                $"{vip} is on no interface: packets the director forwards for it are dropped.",
                $"New-LvsVip -Address {vip}{iface}");
        }
        else
        {
            d.Add(CheckNames.VipPresent, target, CheckStatus.Pass, $"{vip} is on {string.Join(", ", live.Select(a => $"{a.InterfaceName} as {a.Cidr}"))}.");
        }

        // A VIP on lo is reached through the interface that faces the director, so that one must be up too.
        var carriers = live.Select(a => (Name: a.InterfaceName, Role: "holds")).ToList();
        if (live.Count > 0 && live.All(a => a.InterfaceName == "lo") && (d.DirectorInterface ?? d.DefaultInterface) is { } facing)
        {
            carriers.Add((facing, "carries the director's packets for"));
        }

        foreach (var (name, role) in carriers.Distinct())
        {
            var nic = s.State.FindInterface(name);
            var up = nic is not null && nic.IsUp && nic.OperState is not ("DOWN" or "LOWERLAYERDOWN" or "NOTPRESENT");
            d.Add(CheckNames.InterfaceUp, name, up ? CheckStatus.Pass : CheckStatus.Fail,
                up ? $"{name}, which {role} {vip}, is up ({nic!.OperState})." : $"{name}, which {role} {vip}, is down ({nic?.OperState ?? "missing"}): nothing reaches the VIP.",
                up ? null : $"ip link set dev {name} up");
        }

        foreach (var a in live)
        {
            if (a.PrefixLength == 32)
            {
                d.Add(CheckNames.VipPrefix, target, CheckStatus.Pass, $"{vip} is a /32 on {a.InterfaceName}.");
            }
            else
            {
                var onLo = a.InterfaceName == "lo";
                d.Add(CheckNames.VipPrefix, target, onLo ? CheckStatus.Fail : CheckStatus.Warning,
                    onLo
                        ? $"{a.Cidr} on lo makes the whole subnet local to this host: it stops reaching any other host in it."
                        : $"{a.Cidr} on {a.InterfaceName} is wider than /32: the host gets a route for the whole subnet through {a.InterfaceName}.",
                    $"ip addr del {a.Cidr} dev {a.InterfaceName}; New-LvsVip -Address {vip}/32 -InterfaceName {a.InterfaceName}");
            }
        }

        CheckSuppression(d, vip, live);
        CheckAnnounce(d, vip, live);
        CheckReversePath(d, vip, live);
        CheckVipPersisted(d, vip, live, persisted);
        CheckSuppressionPersisted(d, vip);
    }

    private static void CheckSuppression(Context d, IPAddress vip, List<InterfaceAddress> live)
    {
        var s = d.Snapshot;
        var target = vip.ToString();
        var rules = d.LiveSuppression(vip);
        if (rules == SuppressionState.Complete)
        {
            d.Add(CheckNames.ArpSuppression, target, CheckStatus.Pass,
                $"{d.RuleMethod(vip)} drops ARP requests for {vip} and rewrites it to {d.LiveRealIP(vip)} in outgoing ARP.");
            return;
        }

        var sysctl = d.SysctlMethod(vip, live);
        if (sysctl.Ok)
        {
            d.Add(CheckNames.ArpSuppression, target, CheckStatus.Pass, $"sysctl method: {sysctl.Why}");
            return;
        }

        if (live.Count == 0)
        {
            d.Add(CheckNames.ArpSuppression, target, rules == SuppressionState.None ? CheckStatus.Warning : CheckStatus.Fail,
                rules switch
                {
                    SuppressionState.None => $"{vip} is absent and has no ARP suppression either: add it with suppression.",
                    SuppressionState.Unknown => $"{vip} is absent; its arptables rules could not be read ({s.ArpRulesUnknownReason}).",
                    SuppressionState.Shadowed => $"{vip} is absent and its arptables rules would not take effect: {s.State.ShadowFor(vip)}.",
                    _ => $"{vip} is absent and only half of its arptables suppression is in place ({rules}).",
                },
                $"Set-ArpSuppression -VirtualIP {vip}");
            return;
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
        d.Add(CheckNames.ArpSuppression, target, status, detail,
            rules == SuppressionState.Unknown ? "Run Test-LvsRealServer as root to read the arptables rules"
            : s.State.NftEntryFor(vip) is not null ? $"Set-ArpSuppression -VirtualIP {vip} -Method Nftables"
            : $"Set-ArpSuppression -VirtualIP {vip}");
    }

    private static void CheckAnnounce(Context d, IPAddress vip, List<InterfaceAddress> live)
    {
        if (live.Count == 0)
        {
            return;
        }

        var target = vip.ToString();
        if (d.LiveRealIP(vip) is { } rip)
        {
            d.Add(CheckNames.ArpAnnounce, target, CheckStatus.Pass, $"The mangle rule ({d.RuleMethod(vip)}) rewrites {vip} to {rip} in outgoing ARP.");
            return;
        }

        var low = d.ArpInterfaces.Where(i => d.Effective(i, ArpAnnounce) < 2).ToList();
        if (low.Count == 0)
        {
            d.Add(CheckNames.ArpAnnounce, target, CheckStatus.Pass,
                $"No OUTPUT mangle rule, but arp_announce is 2 on {(d.ArpInterfaces.Count == 0 ? "every ARP interface" : string.Join(", ", d.ArpInterfaces))}: outgoing ARP never names {vip}.");
            return;
        }

        var values = string.Join(", ", low.Select(i => $"{i}={d.Effective(i, ArpAnnounce)}"));
        if (d.LiveSuppression(vip) == SuppressionState.Unknown)
        {
            d.Add(CheckNames.ArpAnnounce, target, CheckStatus.Warning,
                $"arp_announce is below 2 ({values}) and the arptables rules could not be read ({d.Snapshot.ArpRulesUnknownReason}) to see whether an OUTPUT mangle rule covers {vip}.",
                "Run Test-LvsRealServer as root to read the arptables rules");
            return;
        }

        var zero = low.Any(i => d.Effective(i, ArpAnnounce) == 0);
        d.Add(CheckNames.ArpAnnounce, target, zero ? CheckStatus.Fail : CheckStatus.Warning,
            zero
                ? $"No OUTPUT mangle rule for {vip} and arp_announce is 0 ({values}, max of conf/all and the interface): ARP requests this host sends may say 'tell {vip}' and poison the gateway's cache."
                : $"No OUTPUT mangle rule for {vip} and arp_announce is 1 ({values}): the kernel still may name {vip} in ARP requests to a subnet that contains it.",
            $"Set-ArpSuppression -VirtualIP {vip} (or: sysctl -w net.ipv4.conf.all.arp_announce=2)");
    }

    private static void CheckReversePath(Context d, IPAddress vip, List<InterfaceAddress> live)
    {
        if (live.Count == 0)
        {
            return;
        }

        var s = d.Snapshot;
        var target = vip.ToString();
        // Packets for the VIP arrive on the interface that faces the director; replies to clients (anywhere) leave by
        // the default route, and that is the path rp_filter checks the client's address against.
        var inbound = d.DirectorInterface ?? live.Select(a => a.InterfaceName).FirstOrDefault(n => n != "lo") ?? d.DefaultInterface;
        if (inbound is null)
        {
            d.Add(CheckNames.ReversePathFilter, target, CheckStatus.Warning,
                $"Cannot tell which interface packets for {vip} arrive on: no default route, and no -DirectorAddress on a connected subnet.",
                "Test-LvsRealServer -DirectorAddress <director>");
            return;
        }

        var rp = d.Effective(inbound, RpFilter);
        var outbound = d.DefaultInterface;
        var fix = $"sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{inbound}.rp_filter=2";
        if (rp == 1 && outbound != inbound)
        {
            d.Add(CheckNames.ReversePathFilter, target, CheckStatus.Fail,
                $"Strict rp_filter on {inbound} (max of conf/all={s.Sysctls.Get("all", RpFilter)} and conf/{inbound}={s.Sysctls.Get(inbound, RpFilter)}): packets for {vip} arrive on {inbound}, but the route back to clients leaves by {outbound ?? "no interface (no default route)"}, so the kernel drops them.",
                fix);
        }
        else if (rp >= 1 && outbound is null)
        {
            d.Add(CheckNames.ReversePathFilter, target, CheckStatus.Fail,
                $"rp_filter={rp} on {inbound} and no default route: packets for {vip} from clients have no reverse path and are dropped.",
                "ip route add default via <your router> dev " + inbound);
        }
        else
        {
            var why = rp switch
            {
                0 => "rp_filter is off",
                1 => $"strict rp_filter, and replies leave by {inbound} too",
                _ => "loose rp_filter: any route back to the client will do",
            };
            d.Add(CheckNames.ReversePathFilter, target, CheckStatus.Pass, $"Packets for {vip} arrive on {inbound}: {why}.");
        }
    }

    private static void CheckVipPersisted(Context d, IPAddress vip, List<InterfaceAddress> live, PersistedAddress? persisted)
    {
        var p = d.Snapshot.Persisted;
        var target = vip.ToString();
        var file = p.RcLocalPath ?? "rc.local";
        if (persisted is null && p.NativeVips.Any(n => n.Address.Equals(vip)))
        {
            CheckNativePersisted(d, vip, live);
            return;
        }

        if (p.RcLocalPath is not null && p.Unreadable.Contains(p.RcLocalPath))
        {
            d.Add(CheckNames.VipPersisted, target, CheckStatus.Warning, $"{file} cannot be read, so whether it brings {vip} back at boot is unknown.",
                "Run Test-LvsRealServer as root");
            return;
        }

        if (persisted is not null && p.BlockProblem is { } problem)
        {
            d.Add(CheckNames.VipPersisted, target, CheckStatus.Fail,
                $"{file} would add {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, but its LvsDirect block cannot run: {problem}.",
                BlockRemedy(p));
            return;
        }

        if (live.Count > 0 && persisted is null)
        {
            d.Add(CheckNames.VipPersisted, target, CheckStatus.Fail,
                p.HasBlock
                    ? $"{vip} is live but not in the LvsDirect block of {file}: it is lost at the next reboot."
                    : p.NativeVips.Count > 0
                        ? $"{vip} is live but not in LvsDirect's network configuration ({string.Join(", ", p.NativeVips.Select(n => n.FilePath).Distinct())}) nor in {file}: it is lost at the next reboot."
                        : $"{vip} is live but {file} {(p.RcLocalExists ? "has no LvsDirect block" : "does not exist")}: it is lost at the next reboot.",
                !p.HasBlock && p.NativeVips.Count > 0 ? $"Save-LvsVip -Target {p.NativeVips[0].Target}" : "Export-RcLocal");
        }
        else if (live.Count == 0 && persisted is not null)
        {
            d.Add(CheckNames.VipPersisted, target, CheckStatus.Fail,
                $"{file} adds {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, but it is not configured now: the next reboot changes this host.",
                $"New-LvsVip -Address {vip} -InterfaceName {persisted.InterfaceName} (to add it now), or Export-RcLocal (to drop it from {file})");
        }
        else if (persisted is not null)
        {
            var same = live.Any(a => a.PrefixLength == persisted.PrefixLength && a.InterfaceName == persisted.InterfaceName);
            d.Add(CheckNames.VipPersisted, target, same ? CheckStatus.Pass : CheckStatus.Fail,
                same
                    ? $"{file} adds {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, as it is now."
                    : $"{file} adds {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, but now it is {string.Join(", ", live.Select(a => $"{a.Cidr} dev {a.InterfaceName}"))}.",
                same ? null : "Export-RcLocal");
        }
    }

    /// <summary>A VIP the network stack's own configuration brings up (Save-LvsVip): drift both ways, as for rc.local.</summary>
    private static void CheckNativePersisted(Context d, IPAddress vip, List<InterfaceAddress> live)
    {
        var native = d.Snapshot.Persisted.NativeVips.Where(n => n.Address.Equals(vip)).ToList();
        var where = string.Join(", ", native.Select(n => $"{n.FilePath} ({n.Target}) adds {n.Address}/{n.PrefixLength} dev {n.InterfaceName}"));
        var save = $"Save-LvsVip -Target {native[0].Target}";
        if (live.Count == 0)
        {
            d.Add(CheckNames.VipPersisted, vip.ToString(), CheckStatus.Fail,
                $"{where} at boot, but it is not configured now: the next reboot (or restart of the network stack) changes this host.",
                $"New-LvsVip -Address {vip} -InterfaceName {native[0].InterfaceName} (to add it now), or {save} (to drop it from the file)");
            return;
        }

        var same = native.Count == 1 && live.Any(a => a.PrefixLength == native[0].PrefixLength && a.InterfaceName == native[0].InterfaceName);
        d.Add(CheckNames.VipPersisted, vip.ToString(), same ? CheckStatus.Pass : CheckStatus.Fail,
            same ? $"{where} at boot, as it is now." : $"{where} at boot, but now it is {string.Join(", ", live.Select(a => $"{a.Cidr} dev {a.InterfaceName}"))}.",
            same ? null : save);
    }

    private static void CheckSuppressionPersisted(Context d, IPAddress vip)
    {
        var s = d.Snapshot;
        var p = s.Persisted;
        var target = vip.ToString();
        var liveState = d.LiveSuppression(vip);
        if (liveState == SuppressionState.Unknown)
        {
            return;
        }

        if (d.IsNftMethod(vip))
        {
            CheckNftPersisted(d, vip);
            return;
        }

        if (p.Unreadable.Count > 0 && p.SavedRulesPath is not null && p.Unreadable.Contains(p.SavedRulesPath))
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Warning, $"{p.SavedRulesPath} cannot be read, so what it restores at boot is unknown.",
                "Run Test-LvsRealServer as root");
            return;
        }

        var liveRip = d.LiveRealIP(vip);
        var liveIn = liveState is SuppressionState.Complete or SuppressionState.InputOnly;
        var places = new List<(string Where, bool In, IPAddress? Rip)>();
        if (p.RcRules is not null && p.BlockProblem is { } problem && (HasInputDrop(p.RcRules, vip) || MangleOf(p.RcRules, vip) is not null))
        {
            // A block that cannot run restores nothing, whatever it says.
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Fail,
                $"The LvsDirect block of {p.RcLocalPath} would restore ARP suppression for {vip} at boot, but it cannot run: {problem}.",
                BlockRemedy(p));
            return;
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
            CheckSysctlPersisted(d, vip);
            return;
        }

        if (!liveAny)
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Fail,
                $"{string.Join(" and ", mentioned.Select(m => m.Where))} restore ARP suppression for {vip} at boot, but none is live now.",
                $"Set-ArpSuppression -VirtualIP {vip} (to restore it now), or Save-ArpSuppression and Export-RcLocal (to drop it from the boot files)");
            return;
        }

        var matching = mentioned.Where(m => m.In == liveIn && Equals(m.Rip, liveRip)).ToList();
        var drifted = mentioned.Except(matching).ToList();
        if (drifted.Count > 0)
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Fail,
                string.Join(" ", drifted.Select(m =>
                    $"{m.Where} restores {Describe(m.In, m.Rip)} for {vip} at boot, but live it is {Describe(liveIn, liveRip)}.")),
                RemedyFor(drifted.Select(m => m.Where), p));
        }
        else if (matching.Count == 0)
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Fail,
                $"The ARP suppression of {vip} is live but neither saved ({p.SavedRulesPath ?? "no saved rules file"}{(p.SavedRules is null ? " does not exist" : " lacks it")}) nor in rc.local's LvsDirect block: after a reboot the host answers ARP for {vip}.",
                "Save-ArpSuppression, or Export-RcLocal");
        }
        else
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Pass,
                $"{string.Join(" and ", matching.Select(m => m.Where))} restore{(matching.Count == 1 ? "s" : string.Empty)} the live suppression of {vip} ({Describe(liveIn, liveRip)}) at boot.");
        }
    }

    /// <summary>The nftables method at boot: LvsDirect's file recreates the live entry, and the host's nftables configuration includes it.</summary>
    private static void CheckNftPersisted(Context d, IPAddress vip)
    {
        var nft = d.Snapshot.Persisted.Nft;
        if (nft is null)
        {
            return;
        }

        var target = vip.ToString();
        const string fix = "Save-ArpSuppression -Method Nftables";
        var live = d.Snapshot.State.NftEntryFor(vip)!;
        if (nft.Unreadable)
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Warning, $"{nft.FilePath} cannot be read, so what it restores at boot is unknown.", "Run Test-LvsRealServer as root");
            return;
        }

        var saved = nft.Entries?.FirstOrDefault(e => e.VirtualIP.Equals(vip));
        if (saved != live)
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Fail,
                nft.Entries is null
                    ? $"{vip} is suppressed by the nftables table arp lvsdirect, but {nft.FilePath} does not exist: after a reboot the host answers ARP for {vip}."
                    : saved is null
                        ? $"{vip} is suppressed by the nftables table arp lvsdirect, but {nft.FilePath} does not recreate it: after a reboot the host answers ARP for {vip}."
                        : $"{nft.FilePath} recreates {vip} with {(saved.Drop ? "the drop rule" : "no drop rule")} and mangle to {saved.MangleTo?.ToString() ?? "nothing"}, but live it is {(live.Drop ? "the drop rule" : "no drop rule")} and mangle to {live.MangleTo?.ToString() ?? "nothing"}.",
                fix);
            return;
        }

        if (nft.IncludedFrom is null)
        {
            d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Fail,
                $"{nft.FilePath} recreates the suppression of {vip}, but no nftables configuration ({(nft.Configs.Count == 0 ? "none exists" : string.Join(", ", nft.Configs))}) includes it: nftables.service never loads it at boot.",
                fix);
            return;
        }

        d.Add(CheckNames.SuppressionPersisted, target, CheckStatus.Pass,
            $"{nft.FilePath}, included from {nft.IncludedFrom}, recreates the nftables suppression of {vip} at boot.");
    }

    /// <summary>
    /// An IPv6 VIP: neighbour discovery answers only for addresses of the interface a solicitation arrives on, so
    /// on lo (as /128, LvsDirect's place for it) it needs no suppression; on an interface facing the segment it
    /// answers and takes the director's traffic. No ARP check applies.
    /// </summary>
    private static void CheckIPv6Vip(Context d, IPAddress vip, List<InterfaceAddress> live, PersistedAddress? persisted)
    {
        var target = vip.ToString();
        if (live.Count == 0)
        {
            d.Add(CheckNames.VipPresent, target, CheckStatus.Fail, $"{vip} is on no interface: packets the director forwards for it are dropped.", $"New-LvsVip -Address {vip}");
            CheckVipPersisted(d, vip, live, persisted);
            return;
        }

        d.Add(CheckNames.VipPresent, target, CheckStatus.Pass, $"{vip} is on {string.Join(", ", live.Select(a => $"{a.InterfaceName} as {a.Cidr}"))}.");
        foreach (var a in live.Where(a => a.PrefixLength != 128))
        {
            d.Add(CheckNames.VipPrefix, target, CheckStatus.Warning, $"{a.Cidr} on {a.InterfaceName} is wider than /128: the host gets a route for the whole prefix.",
                $"Remove-LvsVip -Address {vip} -InterfaceName {a.InterfaceName}; New-LvsVip -Address {vip}");
        }

        var facing = live.Where(a => a.InterfaceName != "lo").Select(a => a.InterfaceName).Distinct().ToList();
        d.Add(CheckNames.NeighbourDiscovery, target, facing.Count == 0 ? CheckStatus.Pass : CheckStatus.Fail,
            facing.Count == 0
                ? $"{vip} is on lo only: neighbour discovery answers solicitations only for the receiving interface's addresses, so this host never claims it."
                : $"{vip} is on {string.Join(", ", facing)}: this host answers neighbour solicitations for it there and takes the director's traffic.",
            facing.Count == 0 ? null : string.Join("; ", facing.Select(f => $"Remove-LvsVip -Address {vip} -InterfaceName {f}")) + $"; New-LvsVip -Address {vip}");
        CheckVipPersisted(d, vip, live, persisted);
    }

    private static void CheckSysctlPersisted(Context d, IPAddress vip)
    {
        var live = d.Snapshot.State.FindAddress(vip).ToList();
        if (live.Count == 0 || !d.SysctlMethod(vip, live).Ok)
        {
            return;
        }

        var p = d.Snapshot.Persisted;
        int Boot(string conf, string key) => p.BootSysctl(conf, key) ?? 0;
        var missing = d.ArpInterfaces
            .Where(i => Math.Max(Boot("all", ArpIgnore), Boot(i, ArpIgnore)) < 1 || Math.Max(Boot("all", ArpAnnounce), Boot(i, ArpAnnounce)) < 2)
            .ToList();
        d.Add(CheckNames.SuppressionPersisted, vip.ToString(), missing.Count == 0 ? CheckStatus.Pass : CheckStatus.Fail,
            missing.Count == 0
                ? "The sysctl files (or rc.local's LvsDirect block) set arp_ignore>=1 and arp_announce=2 at boot."
                : $"arp_ignore/arp_announce are set live but no sysctl file sets them for {string.Join(", ", missing)}: after a reboot the host answers ARP for {vip}.",
            missing.Count == 0 ? null : "Set-ArpSuppression -VirtualIP " + vip + " -Method Sysctl (or put net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.all.arp_announce=2 in /etc/sysctl.d/)");
    }

    private static void CheckSysctlScope(Context d, IReadOnlyList<IPAddress> vips)
    {
        var s = d.Snapshot.Sysctls;
        var loIgnore = s.Get("lo", ArpIgnore);
        var loAnnounce = s.Get("lo", ArpAnnounce);
        if (loIgnore < 1 && loAnnounce < 2)
        {
            d.Add(CheckNames.ArpSysctlScope, "lo", CheckStatus.Pass, "No ARP sysctl is set on lo alone.");
            return;
        }

        var weak = d.ArpInterfaces
            .Where(i => (loIgnore >= 1 && d.Effective(i, ArpIgnore) < 1) || (loAnnounce >= 2 && d.Effective(i, ArpAnnounce) < 2))
            .ToList();
        if (weak.Count == 0)
        {
            d.Add(CheckNames.ArpSysctlScope, "lo", CheckStatus.Pass,
                $"arp_ignore/arp_announce set on lo are also in effect on {string.Join(", ", d.ArpInterfaces)} (conf/all or the interface).");
            return;
        }

        var reliedOn = vips.Any(v => v.AddressFamily == AddressFamily.InterNetwork && d.Snapshot.State.FindAddress(v).Any() && d.LiveSuppression(v) != SuppressionState.Complete);
        var values = string.Join(", ", weak.Select(i => $"{i}: arp_ignore={d.Effective(i, ArpIgnore)} arp_announce={d.Effective(i, ArpAnnounce)}"));
        d.Add(CheckNames.ArpSysctlScope, "lo", reliedOn ? CheckStatus.Fail : CheckStatus.Warning,
            $"conf/lo has arp_ignore={loIgnore} arp_announce={loAnnounce}, but the kernel uses max(conf/all, conf/<iface>) of the interface the ARP request arrives on, so lo's values do nothing ({values}).",
            "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 (or Set-ArpSuppression -VirtualIP <VIP>)");
    }

    private static void CheckRcLocalFile(Context d)
    {
        var p = d.Snapshot.Persisted;
        if (!p.HasBlock)
        {
            return;
        }

        if (p.RcLocalPath?.EndsWith(".service", StringComparison.Ordinal) == true)
        {
            d.Add(CheckNames.RcLocal, p.RcLocalPath, CheckStatus.Pass,
                $"{p.RcLocalPath} is LvsDirect's systemd unit: it recreates the configuration at boot while enabled (systemctl is-enabled {Persistence.SystemdUnit.Name}).");
            return;
        }

        d.Add(CheckNames.RcLocal, p.RcLocalPath ?? "rc.local", p.BlockProblem is null ? CheckStatus.Pass : CheckStatus.Fail,
            p.BlockProblem is null
                ? $"{p.RcLocalPath} holds the LvsDirect block right where it runs and is executable, so rc-local.service runs it at boot."
                : $"{p.RcLocalPath} holds the LvsDirect block, but it cannot run at boot: {p.BlockProblem}.",
            p.BlockProblem is null ? null : BlockRemedy(p));
    }

    /// <summary>Export-RcLocal makes the file executable and moves the block right after the `#!` line; CRLF it cannot fix.</summary>
    private static string BlockRemedy(PersistedConfig p) =>
        p.BlockProblem?.Contains("CRLF", StringComparison.Ordinal) == true
            ? $"sed -i 's/\\r$//' {p.RcLocalPath}; Export-RcLocal"
            : p.BlockProblem?.Contains("'#!'", StringComparison.Ordinal) == true
                ? $"Add '#!/bin/sh' as the first line of {p.RcLocalPath}, then Export-RcLocal"
                : "Export-RcLocal";

    private static void CheckGateway(Context d)
    {
        var routes = d.Snapshot.State.DefaultRoutes;
        var director = d.Request.DirectorAddress;
        if (routes.Count == 0)
        {
            d.Add(CheckNames.DefaultGateway, "default", CheckStatus.Fail,
                "There is no default route: replies to clients outside the local subnets have no way out.",
                "ip route add default via <your router> (not the director)");
            return;
        }

        var list = string.Join(", ", routes.Select(r => r.Gateway is null ? $"dev {r.InterfaceName}" : $"{r.Gateway} dev {r.InterfaceName}"));
        if (director is not null && routes.Any(r => director.Equals(r.Gateway)))
        {
            d.Add(CheckNames.DefaultGateway, "default", CheckStatus.Fail,
                $"The default gateway is the director {director}: LVS-DR replies must go to the clients through this host's own router, not back through the director.",
                $"ip route replace default via <your router> dev {routes[0].InterfaceName}");
            return;
        }

        d.Add(CheckNames.DefaultGateway, "default", CheckStatus.Pass,
            director is null
                ? $"Default route via {list} (give -DirectorAddress to check it is not the director)."
                : $"Default route via {list}, not the director {director}.");
    }

    private static void CheckListener(Context d, ServiceEndpoint service)
    {
        var target = service.ToString();
        if (d.Snapshot.Listeners is null || service.Protocol is not ("tcp" or "udp"))
        {
            d.Add(CheckNames.Listener, target, CheckStatus.Warning, $"Listening sockets for {service.Protocol} are not checked.", null);
            return;
        }

        var sockets = d.Snapshot.Listeners.Where(l => l.Accepts(service.Protocol, service.VirtualIP, service.Port)).ToList();
        d.Add(CheckNames.Listener, target, sockets.Count > 0 ? CheckStatus.Pass : CheckStatus.Fail,
            sockets.Count > 0
                ? $"{string.Join(", ", sockets.Select(l => l.LocalText).Distinct())} accepts {service.Protocol} connections for {service.VirtualIP}:{service.Port}."
                : $"Nothing listens on {service.VirtualIP}:{service.Port}/{service.Protocol} (nor on 0.0.0.0:{service.Port}): the director's connections are refused.",
            sockets.Count > 0 ? null : $"Start the service bound to {service.VirtualIP}:{service.Port} or 0.0.0.0:{service.Port} (LvsDirect does not manage services)");
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

    private static bool SeedRule(ArpRule r, IPAddress vip) => IsInputDrop(r, vip) || IsOutputMangle(r, vip);

    private static bool HasInputDrop(ArptablesRuleSet set, IPAddress vip) => set.Rules.Any(r => IsInputDrop(r, vip));

    private static IPAddress? MangleOf(ArptablesRuleSet set, IPAddress vip) =>
        set.Rules.Where(r => IsOutputMangle(r, vip)).Select(r => r.MangleIpSource).FirstOrDefault();

    /// <summary>A drop rule for the VIP in LvsDirect's chain or, as earlier versions and the seed wrote it, in a built-in one.</summary>
    private static bool IsInputDrop(ArpRule r, IPAddress vip) =>
        r.IsInputDropFor(vip, ArptablesDialect.OwnInputChain) || AllChainNames.Any(dialect => r.IsInputDropFor(vip, dialect));

    private static bool IsOutputMangle(ArpRule r, IPAddress vip) =>
        r.IsOutputMangleFor(vip, ArptablesDialect.OwnOutputChain) || AllChainNames.Any(dialect => r.IsOutputMangleFor(vip, dialect));

    private sealed class Context
    {
        public Context(RealServerSnapshot snapshot, DiagnosisRequest request)
        {
            Snapshot = snapshot;
            Request = request;
            var state = snapshot.State;
            // Every interface that speaks ARP can be asked for the VIP (with arp_ignore=0 the kernel answers for any
            // local address on any interface).
            ArpInterfaces = state.Interfaces
                .Where(i => i.Name != "lo" && i.IsUp && i.MacAddress is not null && i.MacAddress != "00:00:00:00:00:00")
                .Select(i => i.Name)
                .ToList();
            DefaultInterface = state.DefaultRoutes.FirstOrDefault()?.InterfaceName;
            if (request.DirectorAddress is { } director)
            {
                DirectorInterface = state.AllAddresses
                    .Where(a => a.InterfaceName != "lo" && a.PrefixLength < 32 && a.Address.AddressFamily == AddressFamily.InterNetwork && InSubnet(director, a.Address, a.PrefixLength))
                    .OrderByDescending(a => a.PrefixLength)
                    .Select(a => a.InterfaceName)
                    .FirstOrDefault();
            }
        }

        public RealServerSnapshot Snapshot { get; }

        public DiagnosisRequest Request { get; }

        public List<RealServerCheck> Results { get; } = [];

        public IReadOnlyList<string> ArpInterfaces { get; }

        public string? DefaultInterface { get; }

        public string? DirectorInterface { get; }

        public int Effective(string iface, string key) => Snapshot.Sysctls.Effective(iface, key);

        /// <summary>
        /// The VIP's suppression by rules: arptables, else LvsDirect's nftables table. Unknown when a rule set that
        /// may hold it could not be read (not root); None when neither tool is installed or neither names it.
        /// </summary>
        public SuppressionState LiveSuppression(IPAddress vip)
        {
            var state = Snapshot.State;
            var rules = state.RuleSuppressionFor(vip);
            if (rules != SuppressionState.None)
            {
                return rules;
            }

            return (state.ArpRules is null && Snapshot.ArptablesInstalled) || (state.NftArp is null && Snapshot.NftInstalled)
                ? SuppressionState.Unknown
                : SuppressionState.None;
        }

        public IPAddress? LiveRealIP(IPAddress vip) => Snapshot.State.RuleRealIPFor(vip);

        /// <summary>Which rules hold the VIP's suppression, for details.</summary>
        public string RuleMethod(IPAddress vip) =>
            Snapshot.State.InputRulesFor(vip).Any() || Snapshot.State.OutputRulesFor(vip).Any() ? "arptables" : "nftables (table arp lvsdirect)";

        /// <summary>The VIP's suppression is LvsDirect's nftables table alone.</summary>
        public bool IsNftMethod(IPAddress vip) =>
            Snapshot.State.NftEntryFor(vip) is not null && !Snapshot.State.InputRulesFor(vip).Any() && !Snapshot.State.OutputRulesFor(vip).Any();

        /// <summary>
        /// Whether arp_ignore/arp_announce keep <paramref name="vip"/> out of ARP: it must not sit on an interface that
        /// does ARP (arp_ignore 1 and 2 still answer for addresses of the receiving interface), and every ARP interface
        /// needs arp_ignore >= 1 and arp_announce >= 2 in effect.
        /// </summary>
        public (bool Ok, string Why) SysctlMethod(IPAddress vip, List<InterfaceAddress> live)
        {
            var onArp = live.Where(a => ArpInterfaces.Contains(a.InterfaceName)).Select(a => a.InterfaceName).ToList();
            var values = string.Join(", ", ArpInterfaces.Select(i => $"{i}: arp_ignore={Effective(i, ArpIgnore)} arp_announce={Effective(i, ArpAnnounce)}"));
            var ignoring = ArpInterfaces.All(i => Effective(i, ArpIgnore) >= 1);
            var announcing = ArpInterfaces.All(i => Effective(i, ArpAnnounce) >= 2);
            var ignoreAll = ArpInterfaces.All(i => Effective(i, ArpIgnore) == 8);
            if (onArp.Count > 0 && !ignoreAll)
            {
                return (false, $"{vip} is on {string.Join(", ", onArp)}, which answers ARP for its own addresses whatever arp_ignore is ({values})");
            }

            if (ignoring && announcing)
            {
                return (true, $"{vip} is on {string.Join(", ", live.Select(a => a.InterfaceName).DefaultIfEmpty("no interface"))}, and {values}.");
            }

            return (false, $"arp_ignore>=1 and arp_announce>=2 are not in effect on every ARP interface ({values})");
        }

        public void Add(string check, string target, CheckStatus status, string detail, string? remediation = null) =>
            Results.Add(new RealServerCheck
            {
                ComputerName = Snapshot.ComputerName,
                Check = check,
                Target = target,
                Status = status,
                Detail = detail,
                Remediation = status == CheckStatus.Pass ? null : remediation,
            });

        private static bool InSubnet(IPAddress address, IPAddress network, int prefix)
        {
            var a = address.GetAddressBytes();
            var n = network.GetAddressBytes();
            if (a.Length != n.Length)
            {
                return false;
            }

            for (var bit = 0; bit < prefix; bit++)
            {
                var mask = 0x80 >> (bit % 8);
                if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
                {
                    return false;
                }
            }

            return true;
        }
    }
}

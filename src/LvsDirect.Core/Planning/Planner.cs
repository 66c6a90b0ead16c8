using System.Net;
using System.Text;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Planning;

/// <summary>
/// Turns current state + desired change into ordered, batched commands. The one place that knows the ordering
/// rule (suppress before adding, remove before unsuppressing), idempotence (only what differs is planned) and
/// batching (one `ip -batch` per direction, one `arptables-restore` where restore is atomic).
/// </summary>
public static class Planner
{
    /// <summary>
    /// Up to this many rule changes are made one `arptables -A/-D` at a time. Each is its own kernel
    /// transaction that touches no other rule, so even a foreign writer that ignores our lock cannot lose a
    /// rule to us; above it, one atomic restore keeps the process count constant for large batches.
    /// </summary>
    public const int RuleByRuleLimit = 8;

    public static Plan Create(HostState state, DesiredChange desired)
    {
        var steps = new List<PlanStep>();
        var changes = new List<ItemChange>();

        // Every refusal is found, and its VIP taken out of the change, before the first step is planned: a
        // refused VIP changes nothing, not even the host-wide settings or the rules planned ahead of its address.
        var rejected = Refuse(state, desired);
        desired.Drop(rejected.Select(e => IPAddress.Parse((string)e.Target!)).ToHashSet());

        var removeLines = new List<string>();
        var removeTargets = new List<string>();
        foreach (var a in desired.RemoveAddresses.Distinct())
        {
            var present = state.FindInterface(a.InterfaceName)?.Addresses.Any(x => x.Address.Equals(a.Address) && x.PrefixLength == a.PrefixLength) == true;
            if (!present)
            {
                changes.Add(new ItemChange("Address", a.Address, ChangeKind.Unchanged, $"{a.Cidr} is not on {a.InterfaceName}"));
                continue;
            }

            removeLines.Add($"address del {a.Cidr} dev {a.InterfaceName}");
            removeTargets.Add($"{a.Cidr} dev {a.InterfaceName}");
            changes.Add(new ItemChange("Address", a.Address, ChangeKind.Removed, $"{a.Cidr} removed from {a.InterfaceName}"));
        }

        if (removeLines.Count > 0)
        {
            steps.Add(new PlanStep(StepKind.RemoveAddresses, "Remove VIP address", string.Join(", ", removeTargets), IpBatch(removeLines)));
        }

        var (sysctlSteps, recorded, forgotten) = PlanSysctls(state, desired, changes);
        steps.AddRange(sysctlSteps);
        steps.AddRange(PlanNftTable(state, desired, changes));

        // Removal looks at arptables only where its rules were read (a host with nftables alone has none).
        if (desired.EnsureSuppression.Count > 0 || (desired.RemoveSuppression.Count + desired.RemoveArptablesOnly.Count > 0 && state.ArpRules is not null))
        {
            steps.AddRange(PlanArpRules(state, desired, changes));
        }

        var addLines = new List<string>();
        var addTargets = new List<string>();
        foreach (var v in desired.EnsureVips.DistinctBy(v => (v.Address, v.InterfaceName)))
        {
            var onTarget = state.FindAddress(v.Address).FirstOrDefault(a => a.InterfaceName == v.InterfaceName);
            if (onTarget is not null)
            {
                var detail = onTarget.PrefixLength == v.PrefixLength
                    ? $"{onTarget.Cidr} already on {v.InterfaceName}"
                    : $"{v.Address} already on {v.InterfaceName} as /{onTarget.PrefixLength}; left as it is";
                changes.Add(new ItemChange("Address", v.Address, ChangeKind.Unchanged, detail));
                continue;
            }

            var line = new StringBuilder($"address add {v.Cidr} dev {v.InterfaceName}");
            if (v.Label is not null)
            {
                line.Append(" label ").Append(v.Label);
            }

            if (v.Broadcast is not null)
            {
                line.Append(" broadcast ").Append(v.Broadcast);
            }

            // An IPv6 VIP is usable at once: duplicate address detection would hold it back (tentative) and, on
            // a shared segment, find the director's copy of the same VIP.
            if (v.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                line.Append(" nodad");
            }

            addLines.Add(line.ToString());
            addTargets.Add($"{v.Cidr} dev {v.InterfaceName}");
            changes.Add(new ItemChange("Address", v.Address, ChangeKind.Added, $"{v.Cidr} added to {v.InterfaceName}"));
        }

        if (addLines.Count > 0)
        {
            steps.Add(new PlanStep(StepKind.AddAddresses, "Add VIP address", string.Join(", ", addTargets), IpBatch(addLines)));
        }

        return new Plan(steps, changes, rejected) { SysctlRecorded = recorded, SysctlForgotten = forgotten };
    }

    /// <summary>
    /// The refusals of <paramref name="desired"/>, at most one per VIP, each targeting the VIP as text: addresses
    /// that cannot be VIPs here, real IPs that cannot stand in for them, one VIP asked for in two ways, a VIP
    /// already on another interface, and the host's own addresses among those to remove.
    /// </summary>
    private static List<LvsException> Refuse(HostState state, DesiredChange desired)
    {
        var refused = new Dictionary<IPAddress, LvsException>();
        void Check(IPAddress vip, Func<LvsException?> refusal)
        {
            if (!refused.ContainsKey(vip) && refusal() is { } e)
            {
                refused[vip] = e;
            }
        }

        var rules = desired.EnsureSuppression.Select(r => (Request: r, Method: "arptables"))
            .Concat(desired.EnsureNftSuppression.Select(r => (Request: r, Method: "nftables")))
            .ToList();
        var vips = desired.EnsureVips.Select(v => v.Address)
            .Concat(rules.Select(r => r.Request.VirtualIP))
            .Concat(desired.EnsureSysctlSuppression.Select(r => r.VirtualIP))
            .Distinct();
        foreach (var vip in vips)
        {
            Check(vip, () => VipValidation.Refuse(state, vip));
        }

        foreach (var g in desired.EnsureVips.GroupBy(v => v.Address))
        {
            var ways = g.Distinct().Select(v => $"{v.Cidr} on {v.InterfaceName}{(v.Label is null ? null : $" label {v.Label}")}{(v.Broadcast is null ? null : $" broadcast {v.Broadcast}")}").ToList();
            Check(g.Key, () => ways.Count > 1 ? Conflict(g.Key, ways) : null);
        }

        foreach (var g in rules.GroupBy(r => r.Request.VirtualIP))
        {
            var ways = g.Select(r => $"{r.Method} with real IP {r.Request.RealIP}").Distinct().ToList();
            Check(g.Key, () => ways.Count > 1 ? Conflict(g.Key, ways) : null);
        }

        foreach (var (r, _) in rules)
        {
            Check(r.VirtualIP, () => VipValidation.RefuseRealIP(state, r));
        }

        foreach (var v in desired.EnsureVips)
        {
            Check(v.Address, () => Elsewhere(state, desired, v));
        }

        foreach (var a in desired.RemoveAddresses.Where(a => VipValidation.IsHostAddress(state, a)))
        {
            Check(a.Address, () => new LvsException(LvsErrorKind.HostAddress,
                $"{a.Cidr} on {a.InterfaceName} is this host's own address, not a VIP: removing it would cut the host off from its subnet (and its default route). LvsDirect never removes it, not even with -Force; use ip address del if you really mean it.",
                a.Address.ToString()));
        }

        return [.. refused.Values];
    }

    private static LvsException Conflict(IPAddress vip, IReadOnlyList<string> ways) =>
        new(LvsErrorKind.ConflictingRequest,
            $"{vip} is asked for in {ways.Count} different ways in one call ({string.Join("; ", ways)}), but the host can hold only one. Ask for it once.",
            vip.ToString());

    /// <summary>A VIP already on another interface, unless a method switch moves it; where the fix is such a switch, the refusal names it.</summary>
    private static LvsException? Elsewhere(HostState state, DesiredChange desired, VipRequest v)
    {
        var existing = state.FindAddress(v.Address).ToList();
        if (existing.Count == 0 || existing.Any(a => a.InterfaceName == v.InterfaceName) || desired.MovingVips.Contains(v.Address))
        {
            return null;
        }

        var there = existing[0].InterfaceName;
        var ipv4 = v.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        var rules = desired.EnsureNftSuppression.Any(r => r.VirtualIP.Equals(v.Address)) ? "Nftables" : "Arptables";
        var fix = (ipv4, v.InterfaceName == HostState.LoopbackInterface, there == HostState.LoopbackInterface) switch
        {
            (true, true, false) => $"to move it to the sysctl method in place, with no ARP window, run Set-ArpSuppression -VirtualIP {v.Address} -Method Sysctl",
            (true, false, true) => $"to move it to the {rules} method in place, with no ARP window, run Set-ArpSuppression -VirtualIP {v.Address} -Method {rules} -InterfaceName {v.InterfaceName}",
            _ => $"remove it there first (Remove-LvsVip -Address {v.Address} -InterfaceName {there})",
        };
        return new LvsException(LvsErrorKind.VipOnOtherInterface, $"{v.Address} is already configured on {there}, not on {v.InterfaceName}; {fix}.", v.Address.ToString());
    }

    /// <summary>
    /// The nftables method: the table `arp lvsdirect` as it must be afterwards, replaced whole in one `nft -f`
    /// transaction when it differs (so no moment has half of it, and no other table is touched).
    /// </summary>
    private static IEnumerable<PlanStep> PlanNftTable(HostState state, DesiredChange desired, List<ItemChange> changes)
    {
        if (state.NftArp is null)
        {
            if (desired.EnsureNftSuppression.Count > 0)
            {
                throw new InvalidOperationException("The nftables ARP table was not read.");
            }

            yield break;
        }

        var next = state.NftArp.ToList();
        foreach (var vip in desired.RemoveSuppression.Concat(desired.RemoveNftOnly).Distinct())
        {
            if (next.RemoveAll(e => e.VirtualIP.Equals(vip)) > 0)
            {
                changes.Add(new ItemChange("ArpSuppression", vip, ChangeKind.Removed, $"removed from nftables table {NftArpTable.Family} {NftArpTable.Name}"));
            }
        }

        foreach (var req in desired.EnsureNftSuppression.DistinctBy(r => r.VirtualIP))
        {
            var i = next.FindIndex(e => e.VirtualIP.Equals(req.VirtualIP));
            var wanted = new NftArpEntry(req.VirtualIP, true, req.RealIP);
            if (i >= 0 && next[i] == wanted)
            {
                changes.Add(new ItemChange("ArpSuppression", req.VirtualIP, ChangeKind.Unchanged, $"suppressed by nftables, real IP {req.RealIP}"));
                continue;
            }

            changes.Add(new ItemChange("ArpSuppression", req.VirtualIP, i >= 0 ? ChangeKind.Replaced : ChangeKind.Added, $"nftables, real IP {req.RealIP}"));
            if (i >= 0)
            {
                next[i] = wanted;
            }
            else
            {
                next.Add(wanted);
            }
        }

        if (!next.SequenceEqual(state.NftArp))
        {
            var target = string.Join(", ", next.Except(state.NftArp).Concat(state.NftArp.Except(next)).Select(e => e.VirtualIP).Distinct());
            yield return new PlanStep(StepKind.ChangeArpRules, $"Replace nftables table {NftArpTable.Family} {NftArpTable.Name}", target,
                new ToolCommand("nft", ["-f", "-"], NftArpTable.Render(next)));
        }
    }

    /// <summary>
    /// The sysctl method: raise arp_ignore/arp_announce where they are lower than it needs (never lower a
    /// stricter value), recording what they were; or, once the last VIP leaves lo, put back what was recorded,
    /// but only where the value is still the one LvsDirect wrote (an admin's later change wins).
    /// </summary>
    private static (List<PlanStep> Steps, List<SysctlRecord> Recorded, List<SysctlRecord> Forgotten) PlanSysctls(
        HostState state, DesiredChange desired, List<ItemChange> changes)
    {
        var steps = new List<PlanStep>();
        var recorded = new List<SysctlRecord>();
        var forgotten = new List<SysctlRecord>();
        if (desired.EnsureSysctlSuppression.Count > 0)
        {
            var sysctls = state.Sysctls ?? throw new InvalidOperationException("The ARP sysctls were not read.");
            var keys = desired.EnsureSysctlSuppression.SelectMany(r => SysctlKey.For(r.FacingInterface)).Distinct().ToList();
            var raise = keys.Where(k => sysctls.Get(k) < k.Target).ToList();
            var known = desired.SysctlRecords.Select(r => r.Key).ToHashSet();
            recorded.AddRange(raise.Where(k => !known.Contains(k)).Select(k => new SysctlRecord(k, sysctls.Get(k), k.Target)));
            foreach (var r in desired.EnsureSysctlSuppression.DistinctBy(r => r.VirtualIP))
            {
                changes.Add(raise.Count == 0
                    ? new ItemChange("ArpSuppression", r.VirtualIP, ChangeKind.Unchanged, $"arp_ignore/arp_announce already set on all and {r.FacingInterface}")
                    : new ItemChange("ArpSuppression", r.VirtualIP, ChangeKind.Added, $"sysctl {string.Join(", ", raise.Select(k => $"{k.Name}={k.Target}"))}"));
            }

            if (raise.Count > 0)
            {
                steps.Add(new PlanStep(StepKind.ChangeArpRules, "Set ARP sysctls", string.Join(", ", raise.Select(k => k.Name)),
                    new ToolCommand("sysctl", ["-w", .. raise.Select(k => $"{k.Name}={k.Target}")])));
            }

            return (steps, recorded, forgotten);
        }

        if (!desired.RestoreSysctls || desired.SysctlRecords.Count == 0)
        {
            return (steps, recorded, forgotten);
        }

        var removed = desired.RemoveAddresses.Where(HostState.IsLoopbackVip).ToHashSet();
        var remaining = state.LoopbackVipAddresses.Where(a => !removed.Any(r => r.Address.Equals(a.Address) && r.PrefixLength == a.PrefixLength)).ToList();
        var subject = removed.Select(r => r.Address).FirstOrDefault() ?? desired.RemoveSuppression.FirstOrDefault() ?? System.Net.IPAddress.None;
        if (remaining.Count > 0)
        {
            changes.Add(new ItemChange("ArpSysctl", subject, ChangeKind.Unchanged, $"kept: {remaining[0].Cidr} is still on lo and relies on them"));
            return (steps, recorded, forgotten);
        }

        var current = state.Sysctls ?? throw new InvalidOperationException("The ARP sysctls were not read.");
        var restore = desired.SysctlRecords.Where(r => current.Get(r.Key) == r.Set).ToList();
        forgotten.AddRange(desired.SysctlRecords);
        foreach (var r in desired.SysctlRecords.Except(restore))
        {
            changes.Add(new ItemChange("ArpSysctl", subject, ChangeKind.Unchanged, $"{r.Key.Name} is {current.Get(r.Key)}, not the {r.Set} LvsDirect set: left as it is"));
        }

        if (restore.Count > 0)
        {
            changes.Add(new ItemChange("ArpSysctl", subject, ChangeKind.Removed, $"restored {string.Join(", ", restore.Select(r => $"{r.Key.Name}={r.Previous}"))}"));
            steps.Add(new PlanStep(StepKind.ChangeArpRules, "Restore ARP sysctls", string.Join(", ", restore.Select(r => r.Key.Name)),
                new ToolCommand("sysctl", ["-w", .. restore.Select(r => $"{r.Key.Name}={r.Previous}")])));
        }

        return (steps, recorded, forgotten);
    }

    private static ToolCommand IpBatch(IEnumerable<string> lines) =>
        new("ip", ["-batch", "-"], string.Join('\n', lines) + "\n");

    private static IEnumerable<PlanStep> PlanArpRules(HostState state, DesiredChange desired, List<ItemChange> changes)
    {
        var dialect = state.RequireDialect();
        var toRemove = new List<ArpRule>();
        var toAdd = new List<(string Chain, string[] Spec)>();

        foreach (var vip in desired.RemoveSuppression.Concat(desired.RemoveArptablesOnly).Distinct())
        {
            var rules = state.InputRulesFor(vip).Concat(state.OutputRulesFor(vip)).ToList();
            toRemove.AddRange(rules);
            changes.Add(rules.Count > 0
                ? new ItemChange("ArpSuppression", vip, ChangeKind.Removed, $"{rules.Count} rule(s) removed")
                : new ItemChange("ArpSuppression", vip, ChangeKind.Unchanged, "no suppression rules"));
        }

        foreach (var req in desired.EnsureSuppression.DistinctBy(r => r.VirtualIP))
        {
            var added = 0;
            var replaced = false;
            if (!state.InputRulesFor(req.VirtualIP).Any())
            {
                toAdd.Add((dialect.InputChain, ArptablesSyntax.InputDropSpec(req.VirtualIP)));
                added++;
            }

            var outputs = state.OutputRulesFor(req.VirtualIP).ToList();
            if (!outputs.Any(r => req.RealIP.Equals(r.MangleIpSource)))
            {
                // A mangle rule to another address would win over ours (first match); it is replaced.
                replaced = outputs.Count > 0;
                toRemove.AddRange(outputs);
                toAdd.Add((dialect.OutputChain, ArptablesSyntax.OutputMangleSpec(req.VirtualIP, req.RealIP)));
                added++;
            }

            changes.Add(added == 0
                ? new ItemChange("ArpSuppression", req.VirtualIP, ChangeKind.Unchanged, $"suppressed, real IP {req.RealIP}")
                : new ItemChange("ArpSuppression", req.VirtualIP, replaced ? ChangeKind.Replaced : ChangeKind.Added, $"real IP {req.RealIP}"));
        }

        if (toAdd.Count == 0 && toRemove.Count == 0)
        {
            yield break;
        }

        var target = string.Join(", ", toAdd.Select(a => a.Spec[1]).Concat(toRemove.Select(r => (r.Destination ?? r.Source)!.ToString())).Distinct());
        if (dialect.AtomicRestore && toAdd.Count + toRemove.Count > RuleByRuleLimit)
        {
            var removeSet = toRemove.ToHashSet();
            var text = state.ArpRules!.Render(dialect, toAdd.Select(a => ArptablesSyntax.RuleLine(a.Chain, a.Spec)), removeSet.Contains);
            yield return new PlanStep(StepKind.ChangeArpRules, "Update ARP suppression rules", target, new ToolCommand("arptables-restore", [], text));
            yield break;
        }

        // Where restore is not atomic (it flushes first), only rule-by-rule changes keep every other rule in place.
        foreach (var (chain, spec) in toAdd)
        {
            yield return new PlanStep(StepKind.ChangeArpRules, "Add ARP suppression rule", spec[1], new ToolCommand("arptables", ["-A", chain, .. spec]));
        }

        foreach (var rule in toRemove.Distinct())
        {
            var spec = rule.Chain == dialect.InputChain
                ? ArptablesSyntax.InputDropSpec(rule.Destination!)
                : ArptablesSyntax.OutputMangleSpec(rule.Source!, rule.MangleIpSource!);
            yield return new PlanStep(StepKind.ChangeArpRules, "Remove ARP suppression rule", spec[1], new ToolCommand("arptables", ["-D", rule.Chain, .. spec]));
        }
    }
}

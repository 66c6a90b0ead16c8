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
/// batching (one `ip -batch` per direction, one `arptables -A/-D` per address list where the flavor takes lists).
/// </summary>
public static class Planner
{
    /// <summary>
    /// The longest comma list one arptables argument gets: the kernel refuses a single argument over
    /// MAX_ARG_STRLEN (128 KiB), so 10,000 VIPs go in a few calls instead of one.
    /// </summary>
    public const int MaxAddressListLength = 100_000;

    public static Plan Create(HostState state, DesiredChange desired)
    {
        var steps = new List<PlanStep>();
        var changes = new List<ItemChange>();

        // Every refusal is found, and its VIP taken out of the change, before the first step is planned: a
        // refused VIP changes nothing, not even the host-wide settings or the rules planned ahead of its address.
        var rejected = Refuse(state, desired);
        desired.Drop(rejected.Select(e => e.Vip).ToHashSet());

        var removeLines = new StringBuilder();
        var removeTargets = new List<string>();
        foreach (var a in desired.RemoveAddresses.Distinct())
        {
            var present = state.FindInterface(a.InterfaceName)?.Addresses.Any(x => x.Address.Equals(a.Address) && x.PrefixLength == a.PrefixLength) == true;
            if (!present)
            {
                changes.Add(new ItemChange("Address", a.Address, ChangeKind.Unchanged, $"{a.Cidr} is not on {a.InterfaceName}"));
                continue;
            }

            removeLines.Append("address del ").Append(a.Cidr).Append(" dev ").Append(a.InterfaceName).Append('\n');
            removeTargets.Add($"{a.Cidr} dev {a.InterfaceName}");
            changes.Add(new ItemChange("Address", a.Address, ChangeKind.Removed, $"{a.Cidr} removed from {a.InterfaceName}"));
        }

        if (removeLines.Length > 0)
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

        // The batch's text and the step's target are written as they go, not kept as two strings per VIP and joined:
        // the first call of a fresh process pays for every fresh heap page it fills.
        var addLines = new StringBuilder(desired.EnsureVips.Count * 48);
        var addTargets = new StringBuilder(desired.EnsureVips.Count * 30);
        // Each address once per interface, the first request for it counting (the refusals above already took out
        // an address asked for on two interfaces, so the second set stays empty but for a caller that did not ask).
        var firstOn = new Dictionary<IPAddress, string>(desired.EnsureVips.Count);
        HashSet<AddressOn>? alsoOn = null;
        foreach (var v in desired.EnsureVips)
        {
            if (!firstOn.TryAdd(v.Address, v.InterfaceName)
                && (firstOn[v.Address] == v.InterfaceName || !(alsoOn ??= []).Add(new AddressOn(v.Address, v.InterfaceName))))
            {
                continue;
            }

            var onTarget = state.FindAddressOn(v.Address, v.InterfaceName);
            if (onTarget is not null)
            {
                var detail = onTarget.PrefixLength == v.PrefixLength
                    ? $"{onTarget.Cidr} already on {v.InterfaceName}"
                    : $"{v.Address} already on {v.InterfaceName} as /{onTarget.PrefixLength}; left as it is";
                changes.Add(new ItemChange("Address", v.Address, ChangeKind.Unchanged, detail));
                continue;
            }

            var cidr = v.Cidr;
            if (addTargets.Length > 0)
            {
                addTargets.Append(", ");
            }

            addTargets.Append(cidr).Append(" dev ").Append(v.InterfaceName);
            addLines.Append("address add ").Append(cidr).Append(" dev ").Append(v.InterfaceName);
            if (v.Label is not null)
            {
                addLines.Append(" label ").Append(v.Label);
            }

            if (v.Broadcast is not null)
            {
                addLines.Append(" broadcast ").Append(v.Broadcast);
            }

            // An IPv6 VIP is usable at once: duplicate address detection would hold it back (tentative) and, on a
            // shared segment, find the director's copy of the same VIP.
            if (v.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                addLines.Append(" nodad");
            }

            addLines.Append('\n');
            changes.Add(new ItemChange("Address", v.Address, ChangeKind.Added, string.Concat(cidr, " added to ", v.InterfaceName)));
        }

        if (addLines.Length > 0)
        {
            steps.Add(new PlanStep(StepKind.AddAddresses, "Add VIP address", addTargets.ToString(), IpBatch(addLines)));
        }

        return new Plan(steps, changes, rejected) { SysctlRecorded = recorded, SysctlForgotten = forgotten };
    }

    /// <summary>
    /// The refusals of <paramref name="desired"/>, at most one per VIP: addresses
    /// that cannot be VIPs here, real IPs that cannot stand in for them, one VIP asked for in two ways, a VIP
    /// already on another interface, and the host's own addresses among those to remove.
    /// </summary>
    private static List<PlanRefusal> Refuse(HostState state, DesiredChange desired)
    {
        // A VIP's first refusal is the one kept, and a later check is not even made for it. Local functions, not
        // lambdas: the checks below run for every VIP of a call, and a closure each would be garbage in the first
        // call of a fresh process, whose fresh heap pages are what it pays most for.
        var refused = new Dictionary<IPAddress, PlanRefusal>();
        bool Open(IPAddress vip) => !refused.ContainsKey(vip);
        void Keep(IPAddress vip, PlanRefusal? refusal)
        {
            if (refusal is not null)
            {
                refused.TryAdd(vip, refusal);
            }
        }

        // A class, not a tuple: LINQ over a value type is JIT-compiled on first use, in every fresh process.
        var rules = new List<WantedRule>(desired.EnsureSuppression.Count + desired.EnsureNftSuppression.Count);
        rules.AddRange(desired.EnsureSuppression.Select(r => new WantedRule(r, "arptables")));
        rules.AddRange(desired.EnsureNftSuppression.Select(r => new WantedRule(r, "nftables")));
        var vips = new HashSet<IPAddress>(desired.EnsureVips.Count);
        foreach (var vip in desired.EnsureVips.Select(v => v.Address)
                     .Concat(rules.Select(r => r.Request.VirtualIP))
                     .Concat(desired.EnsureSysctlSuppression.Select(r => r.VirtualIP)))
        {
            if (vips.Add(vip) && Open(vip))
            {
                Keep(vip, VipValidation.Refuse(state, vip));
            }
        }

        // Nearly every VIP is asked for once: the ways are only described where there are several.
        foreach (var g in Repeated(desired.EnsureVips, v => v.Address))
        {
            var ways = g.Distinct().Select(v => $"{v.Cidr} on {v.InterfaceName}{(v.Label is null ? null : $" label {v.Label}")}{(v.Broadcast is null ? null : $" broadcast {v.Broadcast}")}").ToList();
            if (ways.Count > 1 && Open(g[0].Address))
            {
                Keep(g[0].Address, Conflict(g[0].Address, ways));
            }
        }

        foreach (var g in Repeated(rules, r => r.Request.VirtualIP))
        {
            var ways = g.Select(r => $"{r.Method} with real IP {r.Request.RealIP}").Distinct().ToList();
            if (ways.Count > 1 && Open(g[0].Request.VirtualIP))
            {
                Keep(g[0].Request.VirtualIP, Conflict(g[0].Request.VirtualIP, ways));
            }
        }

        // Every VIP of a call nearly always names the same real IP on the same interface: whether that real IP
        // can stand in is found once for it (only "it is the VIP itself" differs from one VIP to the next).
        var realIps = new List<RealIpVerdict>(1);
        foreach (var r in rules)
        {
            var request = r.Request;
            if (!request.RealIP.Equals(request.VirtualIP))
            {
                RealIpVerdict? known = null;
                foreach (var k in realIps)
                {
                    if (k.RealIP.Equals(request.RealIP) && k.FacingInterface == request.FacingInterface)
                    {
                        known = k;
                        break;
                    }
                }

                if (known is null)
                {
                    realIps.Add(known = new RealIpVerdict(request.RealIP, request.FacingInterface, VipValidation.RefuseRealIP(state, request) is null));
                }

                if (known.Valid)
                {
                    continue;
                }
            }

            if (Open(request.VirtualIP))
            {
                Keep(request.VirtualIP, VipValidation.RefuseRealIP(state, request));
            }
        }

        foreach (var v in desired.EnsureVips)
        {
            if (Open(v.Address))
            {
                Keep(v.Address, Elsewhere(state, desired, v));
            }
        }

        foreach (var a in desired.RemoveAddresses.Where(a => VipValidation.IsHostAddress(state, a)))
        {
            if (Open(a.Address))
            {
                Keep(a.Address, new PlanRefusal(LvsErrorKind.HostAddress, a.Address,
                    $"{a.Cidr} on {a.InterfaceName} is this host's own address, not a VIP: removing it would cut the host off from its subnet (and its default route). LvsDirect never removes it, not even with -Force; use ip address del if you really mean it."));
            }
        }

        return [.. refused.Values];
    }

    private sealed record WantedRule(SuppressionRequest Request, string Method);

    /// <summary>Whether a real IP can stand in for the VIPs that face <paramref name="FacingInterface"/> (the VIP itself aside).</summary>
    private sealed record RealIpVerdict(IPAddress RealIP, string? FacingInterface, bool Valid);

    /// <summary>The items that share their key with another, grouped by key in the order the keys are first seen (as GroupBy would), without a group for each key seen once.</summary>
    private static IEnumerable<List<T>> Repeated<T>(IReadOnlyList<T> items, Func<T, IPAddress> key)
        where T : class
    {
        var first = new Dictionary<IPAddress, T>(items.Count);
        Dictionary<IPAddress, List<T>>? repeated = null;
        foreach (var item in items)
        {
            var k = key(item);
            if (first.TryAdd(k, item))
            {
                continue;
            }

            repeated ??= [];
            if (!repeated.TryGetValue(k, out var group))
            {
                repeated[k] = group = [first[k]];
            }

            group.Add(item);
        }

        if (repeated is null)
        {
            return [];
        }

        var ordered = new List<List<T>>(repeated.Count);
        foreach (var item in items)
        {
            if (repeated.Remove(key(item), out var group))
            {
                ordered.Add(group);
            }
        }

        return ordered;
    }

    /// <summary>An address on an interface, as a key (a class: LINQ over a tuple is JIT-compiled on first use).</summary>
    private sealed record AddressOn(IPAddress Address, string InterfaceName);

    private static PlanRefusal Conflict(IPAddress vip, IReadOnlyList<string> ways) =>
        new(LvsErrorKind.ConflictingRequest, vip,
            $"{vip} is asked for in {ways.Count} different ways in one call ({string.Join("; ", ways)}), but the host can hold only one. Ask for it once.");

    /// <summary>A VIP already on another interface, unless a method switch moves it; where the fix is such a switch, the refusal names it.</summary>
    private static PlanRefusal? Elsewhere(HostState state, DesiredChange desired, VipRequest v)
    {
        // Asked for every VIP of a call, and nearly always the VIP is nowhere or already where it is asked for.
        InterfaceAddress? elsewhere = null;
        foreach (var a in state.FindAddress(v.Address))
        {
            if (a.InterfaceName == v.InterfaceName)
            {
                return null;
            }

            elsewhere ??= a;
        }

        if (elsewhere is null || desired.MovingVips.Contains(v.Address))
        {
            return null;
        }

        var there = elsewhere.InterfaceName;
        var ipv4 = v.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        var rules = desired.EnsureNftSuppression.Any(r => r.VirtualIP.Equals(v.Address)) ? "Nftables" : "Arptables";
        var fix = (ipv4, v.InterfaceName == HostState.LoopbackInterface, there == HostState.LoopbackInterface) switch
        {
            (true, true, false) => $"to move it to the sysctl method in place, with no ARP window, run Set-ArpSuppression -VirtualIP {v.Address} -Method Sysctl",
            (true, false, true) => $"to move it to the {rules} method in place, with no ARP window, run Set-ArpSuppression -VirtualIP {v.Address} -Method {rules} -InterfaceName {v.InterfaceName}",
            _ => $"remove it there first (Remove-LvsVip -Address {v.Address} -InterfaceName {there})",
        };
        return new PlanRefusal(LvsErrorKind.VipOnOtherInterface, v.Address, $"{v.Address} is already configured on {there}, not on {v.InterfaceName}; {fix}.");
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

    /// <summary>One `ip -batch -` of the lines written into <paramref name="lines"/>, each ended by a newline.</summary>
    private static ToolCommand IpBatch(StringBuilder lines) => new("ip", ["-batch", "-"], lines.ToString());

    /// <summary>
    /// The arptables method. A VIP's rules live in LvsDirect's own chains, entered from the first rule of the
    /// built-in chains, and every change is an incremental `arptables -N/-I/-A/-D/-X` that touches no rule it does
    /// not name: never a restore, which rewrites the whole table and loses what another tool writes meanwhile. A
    /// batch and a single VIP take this same path. Order: chains and jumps first (a jump someone pushed down is
    /// inserted again at the top before the old one goes), then new rules, then removals (a replaced mangle rule
    /// goes after its successor exists), then the jumps and chains left empty, so the host is as it was.
    /// </summary>
    private static IEnumerable<PlanStep> PlanArpRules(HostState state, DesiredChange desired, List<ItemChange> changes)
    {
        var dialect = state.RequireDialect();
        var addIn = new List<IPAddress>(desired.EnsureSuppression.Count);
        var addOut = new List<SuppressionRequest>(desired.EnsureSuppression.Count);
        var removeIn = new List<ArpRule>();
        var removeOut = new List<ArpRule>();

        foreach (var vip in desired.RemoveSuppression.Concat(desired.RemoveArptablesOnly).Distinct())
        {
            var migrate = desired.MigrateBuiltinRules.Contains(vip);
            var input = state.OwnInputRulesFor(vip).Concat(migrate ? state.BuiltinInputRulesFor(vip) : []).ToList();
            var output = state.OwnOutputRulesFor(vip).Concat(migrate ? state.BuiltinOutputRulesFor(vip) : []).ToList();
            removeIn.AddRange(input);
            removeOut.AddRange(output);
            var foreign = migrate ? 0 : state.BuiltinInputRulesFor(vip).Count() + state.BuiltinOutputRulesFor(vip).Count();
            var kept = foreign > 0 ? $"; its {foreign} rule(s) in {dialect.InputChain}/{dialect.OutputChain} are not LvsDirect's and stay" : string.Empty;
            changes.Add(input.Count + output.Count > 0
                ? new ItemChange("ArpSuppression", vip, ChangeKind.Removed, $"{input.Count + output.Count} rule(s) removed{kept}")
                : new ItemChange("ArpSuppression", vip, ChangeKind.Unchanged, $"no suppression rules of LvsDirect{kept}"));
        }

        var ensure = new List<SuppressionRequest>(desired.EnsureSuppression.Count);
        var ensured = new HashSet<IPAddress>(desired.EnsureSuppression.Count);
        foreach (var r in desired.EnsureSuppression)
        {
            if (ensured.Add(r.VirtualIP))
            {
                ensure.Add(r);
            }
        }

        var ensureChains = ensure.Count > 0;

        // Making and filling LvsDirect's INPUT chain touches nothing of its OUTPUT chain and the other way round:
        // where the flavor allows it the two run side by side (the addresses after them wait for both).
        var lanes = dialect.SideBySideChains ? new object() : null;
        PlanStep InLane(PlanStep step, string own) => lanes is null ? step : step with { Lane = new StepLane(lanes, own) };
        var jumpSteps = new List<PlanStep>();
        var moved = new List<string>();
        foreach (var own in ensureChains ? [ArptablesDialect.OwnInputChain, ArptablesDialect.OwnOutputChain] : Array.Empty<string>())
        {
            var builtin = dialect.BuiltinFor(own);
            if (!state.HasChain(own))
            {
                jumpSteps.Add(InLane(Arptables("Create LvsDirect's ARP chain", own, "-N", own), own));
            }

            var jumps = state.Chain(builtin).JumpsTo(own);
            if (jumps.Count > 0 && jumps[0] == 0)
            {
                continue;
            }

            jumpSteps.Add(InLane(Arptables($"Jump to {own} first", $"{builtin} 1", "-I", builtin, "1", "-j", own), own));
            if (jumps.Count > 0 || state.Chain(own).Rules.Count > 0)
            {
                moved.Add(builtin);
            }

            // The insert above moved each old jump one down; deleting from the bottom keeps the other numbers right.
            var bottomUp = new List<int>(jumps);
            bottomUp.Sort();
            bottomUp.Reverse();
            foreach (var j in bottomUp)
            {
                jumpSteps.Add(InLane(
                    Arptables($"Remove the jump to {own} that other rules came before", $"{builtin} {j + 2}", "-D", builtin, (j + 2).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    own));
            }
        }

        var jump = moved.Count > 0 ? $"; the jump into LvsDirect's chains is first in {string.Join(" and ", moved)} again" : string.Empty;
        IPAddress? textsOf = null;
        string? realIpText = null;
        string? suppressedText = null;
        foreach (var req in ensure)
        {
            var added = 0;
            var replaced = false;
            if (!state.OwnInputRulesFor(req.VirtualIP).Any())
            {
                addIn.Add(req.VirtualIP);
                added++;
            }

            var outputs = state.OwnOutputRulesFor(req.VirtualIP);
            var hasOutput = false;
            var matches = false;
            foreach (var r in outputs)
            {
                hasOutput = true;
                matches |= req.RealIP.Equals(r.MangleIpSource);
            }

            if (!matches)
            {
                // A mangle rule to another address would win over ours (first match); it is replaced.
                replaced = hasOutput;
                removeOut.AddRange(outputs);
                addOut.Add(req);
                added++;
            }

            var migrated = string.Empty;
            if (desired.MigrateBuiltinRules.Contains(req.VirtualIP))
            {
                var builtinRules = state.BuiltinInputRulesFor(req.VirtualIP).Concat(state.BuiltinOutputRulesFor(req.VirtualIP)).ToList();
                removeIn.AddRange(state.BuiltinInputRulesFor(req.VirtualIP));
                removeOut.AddRange(state.BuiltinOutputRulesFor(req.VirtualIP));
                migrated = builtinRules.Count > 0 ? $"; {builtinRules.Count} rule(s) moved out of {dialect.InputChain}/{dialect.OutputChain}" : string.Empty;
                replaced |= builtinRules.Count > 0;
            }

            // Nearly every VIP of a call names the same real IP: its two texts are made once, not once per VIP.
            if (!req.RealIP.Equals(textsOf))
            {
                textsOf = req.RealIP;
                realIpText = "real IP " + req.RealIP;
                suppressedText = "suppressed, " + realIpText;
            }

            changes.Add(added == 0 && migrated.Length == 0 && jump.Length == 0
                ? new ItemChange("ArpSuppression", req.VirtualIP, ChangeKind.Unchanged, suppressedText!)
                : new ItemChange("ArpSuppression", req.VirtualIP, replaced || added == 0 ? ChangeKind.Replaced : ChangeKind.Added,
                    migrated.Length + jump.Length == 0 ? realIpText! : string.Concat(realIpText, migrated, jump)));
        }

        var steps = new List<PlanStep>(jumpSteps);
        steps.AddRange(RuleSteps(dialect, "-A", "Add ARP suppression rules", ArptablesDialect.OwnInputChain, addIn, ArptablesSyntax.InputDropSpec)
            .Select(step => InLane(step, ArptablesDialect.OwnInputChain)));
        foreach (var group in addOut.GroupBy(a => a.RealIP))
        {
            steps.AddRange(RuleSteps(dialect, "-A", "Add ARP suppression rules", ArptablesDialect.OwnOutputChain, group.Select(a => a.VirtualIP), l => ArptablesSyntax.OutputMangleSpec(l, group.Key))
                .Select(step => InLane(step, ArptablesDialect.OwnOutputChain)));
        }

        // Removals stay in the lane of their side (an input rule, in LvsDirect's INPUT chain or the built-in one, with
        // LvsDirect's INPUT chain), after that side's additions: each side still holds a VIP's rule until its
        // successor exists, and the other side's lane touches neither chain.
        foreach (var chain in removeIn.Concat(removeOut).Select(r => r.Chain).Distinct())
        {
            steps.AddRange(RuleSteps(dialect, "-D", "Remove ARP suppression rules", chain, removeIn.Where(r => r.Chain == chain).Select(r => r.Destination!), ArptablesSyntax.InputDropSpec)
                .Select(step => InLane(step, ArptablesDialect.OwnInputChain)));
            foreach (var group in removeOut.Where(r => r.Chain == chain).GroupBy(r => r.MangleIpSource!))
            {
                steps.AddRange(RuleSteps(dialect, "-D", "Remove ARP suppression rules", chain, group.Select(r => r.Source!), l => ArptablesSyntax.OutputMangleSpec(l, group.Key))
                    .Select(step => InLane(step, ArptablesDialect.OwnOutputChain)));
            }
        }

        if (!ensureChains)
        {
            steps.AddRange(RemoveEmptyChain(state, dialect, ArptablesDialect.OwnInputChain, removeIn).Select(step => InLane(step, ArptablesDialect.OwnInputChain)));
            steps.AddRange(RemoveEmptyChain(state, dialect, ArptablesDialect.OwnOutputChain, removeOut).Select(step => InLane(step, ArptablesDialect.OwnOutputChain)));
        }

        return steps;
    }

    /// <summary>Once no rule is left in LvsDirect's chain, its jumps and the chain go, as if LvsDirect had never been there.</summary>
    private static IEnumerable<PlanStep> RemoveEmptyChain(HostState state, ArptablesDialect dialect, string own, List<ArpRule> removed)
    {
        if (!state.HasChain(own) || state.Chain(own).Rules.Count > removed.Count(r => r.Chain == own))
        {
            yield break;
        }

        var builtin = dialect.BuiltinFor(own);
        foreach (var _ in state.Chain(builtin).JumpsTo(own))
        {
            yield return Arptables($"Remove the jump to {own}", builtin, "-D", builtin, "-j", own);
        }

        yield return Arptables("Remove LvsDirect's ARP chain", own, "-X", own);
    }

    /// <summary>
    /// One `arptables -A/-D` per address list where the flavor takes lists (each list is one kernel transaction,
    /// at most <see cref="MaxAddressListLength"/> characters long), else one per address.
    /// </summary>
    private static IEnumerable<PlanStep> RuleSteps(
        ArptablesDialect dialect, string operation, string action, string chain, IEnumerable<IPAddress> addresses, Func<IReadOnlyList<IPAddress>, string[]> spec)
    {
        var chunk = new List<IPAddress>(addresses.TryGetNonEnumeratedCount(out var count) ? Math.Min(count, 4096) : 16);
        var length = 0;
        foreach (var address in addresses)
        {
            var text = address.ToString();
            if (chunk.Count > 0 && (!dialect.AddressLists || length + 1 + text.Length > MaxAddressListLength))
            {
                yield return Step(chunk);
                chunk = [];
                length = 0;
            }

            length += (chunk.Count > 0 ? 1 : 0) + text.Length;
            chunk.Add(address);
        }

        if (chunk.Count > 0)
        {
            yield return Step(chunk);
        }

        PlanStep Step(IReadOnlyList<IPAddress> list) =>
            new(StepKind.ChangeArpRules, action, string.Join(", ", list), new ToolCommand("arptables", [operation, chain, .. spec(list)]));
    }

    private static PlanStep Arptables(string action, string target, params string[] arguments) =>
        new(StepKind.ChangeArpRules, action, target, new ToolCommand("arptables", arguments));
}

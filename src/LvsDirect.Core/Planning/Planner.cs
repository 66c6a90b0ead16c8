using System.Net;
using System.Text;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
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
        var rejected = new List<LvsException>();

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

        if (desired.EnsureSuppression.Count > 0 || desired.RemoveSuppression.Count > 0)
        {
            steps.AddRange(PlanArpRules(state, desired, changes));
        }

        var addLines = new List<string>();
        var addTargets = new List<string>();
        foreach (var v in desired.EnsureVips.DistinctBy(v => (v.Address, v.InterfaceName)))
        {
            var existing = state.FindAddress(v.Address).ToList();
            var onTarget = existing.FirstOrDefault(a => a.InterfaceName == v.InterfaceName);
            if (onTarget is not null)
            {
                var detail = onTarget.PrefixLength == v.PrefixLength
                    ? $"{onTarget.Cidr} already on {v.InterfaceName}"
                    : $"{v.Address} already on {v.InterfaceName} as /{onTarget.PrefixLength}; left as it is";
                changes.Add(new ItemChange("Address", v.Address, ChangeKind.Unchanged, detail));
                continue;
            }

            if (existing.Count > 0)
            {
                rejected.Add(new LvsException(LvsErrorKind.InvalidArgument,
                    $"{v.Address} is already configured on {existing[0].InterfaceName}; remove it there first (Remove-LvsVip -Address {v.Address} -InterfaceName {existing[0].InterfaceName}).",
                    v.Address.ToString()));
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

            addLines.Add(line.ToString());
            addTargets.Add($"{v.Cidr} dev {v.InterfaceName}");
            changes.Add(new ItemChange("Address", v.Address, ChangeKind.Added, $"{v.Cidr} added to {v.InterfaceName}"));
        }

        if (addLines.Count > 0)
        {
            steps.Add(new PlanStep(StepKind.AddAddresses, "Add VIP address", string.Join(", ", addTargets), IpBatch(addLines)));
        }

        return new Plan(steps, changes, rejected);
    }

    private static ToolCommand IpBatch(IEnumerable<string> lines) =>
        new("ip", ["-batch", "-"], string.Join('\n', lines) + "\n");

    private static IEnumerable<PlanStep> PlanArpRules(HostState state, DesiredChange desired, List<ItemChange> changes)
    {
        var dialect = state.RequireDialect();
        var toRemove = new List<ArpRule>();
        var toAdd = new List<(string Chain, string[] Spec)>();

        foreach (var vip in desired.RemoveSuppression.Distinct())
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

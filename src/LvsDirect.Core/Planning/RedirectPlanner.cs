using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Planning;

/// <summary>
/// Plans the REDIRECT method's rule changes against the rules read back from iptables: only what differs,
/// rule by rule up to <see cref="RuleByRuleLimit"/> changes (each `iptables -A/-D` is its own
/// transaction), beyond that one `iptables-restore --noflush` whose -A/-D lines apply together and leave every
/// other rule, chain and table in place.
/// </summary>
public static class RedirectPlanner
{
    /// <summary>
    /// Up to this many rule changes are made one `iptables -A/-D` at a time, each its own kernel transaction that
    /// touches no other rule; above it, one restore keeps the process count constant for large batches.
    /// </summary>
    public const int RuleByRuleLimit = 8;

    public static Plan Create(
        IReadOnlyList<RedirectRule> current,
        IEnumerable<(System.Net.IPAddress VirtualIP, RedirectProtocol Protocol, int Port)> add,
        IEnumerable<(System.Net.IPAddress VirtualIP, RedirectProtocol Protocol, int Port)> remove)
    {
        var changes = new List<ItemChange>();
        var present = current.Select(r => r.Key).ToHashSet();
        var toAdd = new List<(System.Net.IPAddress VirtualIP, RedirectProtocol Protocol, int Port)>();
        foreach (var r in add.Distinct())
        {
            var what = $"{RedirectSyntax.ProtocolName(r.Protocol)} port {r.Port}";
            if (present.Contains(r))
            {
                changes.Add(new ItemChange("Redirect", r.VirtualIP, ChangeKind.Unchanged, $"{what} already redirected"));
                continue;
            }

            toAdd.Add(r);
            changes.Add(new ItemChange("Redirect", r.VirtualIP, ChangeKind.Added, what));
        }

        var removeSet = remove.ToHashSet();
        var toRemove = current.Where(r => removeSet.Contains(r.Key)).ToList();
        foreach (var r in removeSet.Where(k => !present.Contains(k)))
        {
            changes.Add(new ItemChange("Redirect", r.VirtualIP, ChangeKind.Unchanged, $"{RedirectSyntax.ProtocolName(r.Protocol)} port {r.Port} is not redirected"));
        }

        changes.AddRange(toRemove.Select(r => new ItemChange("Redirect", r.VirtualIP, ChangeKind.Removed, $"{RedirectSyntax.ProtocolName(r.Protocol)} port {r.Port}")));

        var steps = new List<PlanStep>();
        string Target((System.Net.IPAddress VirtualIP, RedirectProtocol Protocol, int Port) k) => $"{RedirectSyntax.ProtocolName(k.Protocol)} {k.VirtualIP}:{k.Port}";
        if (toAdd.Count + toRemove.Count > RuleByRuleLimit)
        {
            var lines = toRemove.Select(r => $"-D {RedirectSyntax.Chain} " + string.Join(' ', RedirectSyntax.Spec(r.VirtualIP, r.Protocol, r.Port)))
                .Concat(toAdd.Select(a => RedirectSyntax.RuleLine(a.VirtualIP, a.Protocol, a.Port)));
            var text = $"*{RedirectSyntax.Table}\n{string.Join('\n', lines)}\nCOMMIT\n";
            var target = string.Join(", ", toRemove.Select(r => r.Key).Concat(toAdd).Select(Target));
            steps.Add(new PlanStep(StepKind.ChangeRedirects, "Update REDIRECT rules", target, new ToolCommand("iptables-restore", ["--noflush"], text)));
            return new Plan(steps, changes, []);
        }

        foreach (var r in toRemove)
        {
            steps.Add(new PlanStep(StepKind.ChangeRedirects, "Remove REDIRECT rule", Target(r.Key),
                new ToolCommand("iptables", ["-t", RedirectSyntax.Table, "-D", RedirectSyntax.Chain, .. RedirectSyntax.Spec(r.VirtualIP, r.Protocol, r.Port)])));
        }

        foreach (var a in toAdd)
        {
            steps.Add(new PlanStep(StepKind.ChangeRedirects, "Add REDIRECT rule", Target(a),
                new ToolCommand("iptables", ["-t", RedirectSyntax.Table, "-A", RedirectSyntax.Chain, .. RedirectSyntax.Spec(a.VirtualIP, a.Protocol, a.Port)])));
        }

        return new Plan(steps, changes, []);
    }
}

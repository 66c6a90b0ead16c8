using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Host;

/// <summary>
/// One arptables chain's rules in the order the kernel tries them, indexed once: a check of 1000 VIPs against a
/// chain of 1000 rules must not be quadratic.
/// </summary>
public sealed class ChainView
{
    private readonly Dictionary<ArpRule, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly List<int> _verdicts = [];

    public ChainView(IReadOnlyList<ArpRule> rules)
    {
        Rules = rules;
        for (var i = 0; i < rules.Count; i++)
        {
            _index[rules[i]] = i;
            if (EndsWithoutDrop(rules[i]))
            {
                _verdicts.Add(i);
            }
        }
    }

    public IReadOnlyList<ArpRule> Rules { get; }

    public int IndexOf(ArpRule rule) => _index.GetValueOrDefault(rule, -1);

    /// <summary>Positions (0-based) of every plain jump to <paramref name="target"/>.</summary>
    public List<int> JumpsTo(string target) => Enumerable.Range(0, Rules.Count).Where(i => Rules[i].IsJumpTo(target)).ToList();

    /// <summary>The position of the first plain jump to <paramref name="target"/>; -1 when there is none.</summary>
    public int FirstJumpTo(string target) => JumpsTo(target).DefaultIfEmpty(-1).First();

    /// <summary>The first rule before <paramref name="position"/> that could accept the VIP's ARP (see <see cref="EndsWithoutDrop"/>).</summary>
    public ArpRule? FirstAcceptingBefore(int position, IPAddress vip, bool input)
    {
        foreach (var i in _verdicts)
        {
            if (i >= position)
            {
                break;
            }

            // An address match that leaves the VIP out (-d for requests coming in, -s for ARP going out) cannot take it.
            if (!ArptablesRuleSet.Excludes(Rules[i], vip, input))
            {
                return Rules[i];
            }
        }

        return null;
    }

    /// <summary>
    /// True when the rule could end an ARP packet's way through the chain with anything but a drop: ACCEPT, a
    /// mangle (its verdict is ACCEPT), RETURN, or a jump to a chain that is not LvsDirect's.
    /// </summary>
    private static bool EndsWithoutDrop(ArpRule r) =>
        r.Target is not (null or "DROP" or "CLASSIFY" or ArptablesDialect.OwnInputChain or ArptablesDialect.OwnOutputChain);
}

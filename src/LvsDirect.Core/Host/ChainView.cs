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
    /// <summary>Guards the lookups below, which are filled on first use and may be asked from several threads.</summary>
    private readonly object _lookupsLock = new();
    private readonly Dictionary<string, int> _firstJumps = new(StringComparer.Ordinal);
    private VerdictIndex? _inputVerdicts;
    private VerdictIndex? _outputVerdicts;

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
    public List<int> JumpsTo(string target)
    {
        var jumps = new List<int>();
        for (var i = 0; i < Rules.Count; i++)
        {
            if (Rules[i].IsJumpTo(target))
            {
                jumps.Add(i);
            }
        }

        return jumps;
    }

    /// <summary>The position of the first plain jump to <paramref name="target"/>; -1 when there is none (asked once per VIP, found once).</summary>
    public int FirstJumpTo(string target)
    {
        lock (_lookupsLock)
        {
            if (!_firstJumps.TryGetValue(target, out var position))
            {
                _firstJumps[target] = position = JumpsTo(target).DefaultIfEmpty(-1).First();
            }

            return position;
        }
    }

    /// <summary>
    /// The first rule before <paramref name="position"/> that could accept the VIP's ARP (see <see cref="EndsWithoutDrop"/>).
    /// An address match that leaves the VIP out (-d for requests coming in, -s for ARP going out) cannot take it.
    /// Each rule's match is read once, and a rule that takes one address only is looked up by it, so a check of
    /// 1000 VIPs in a chain of their 1000 mangle rules reads 1000 matches, not half a million.
    /// </summary>
    public ArpRule? FirstAcceptingBefore(int position, IPAddress vip, bool input)
    {
        var verdicts = Verdicts(input);
        var first = verdicts.FirstSingle.TryGetValue(vip, out var single) && single < position ? single : position;
        for (var k = 0; k < verdicts.Others.Count && verdicts.Others[k] < first; k++)
        {
            if (!verdicts.OtherMatches[k].Excludes(vip))
            {
                first = verdicts.Others[k];
                break;
            }
        }

        return first < position ? Rules[first] : null;
    }

    private VerdictIndex Verdicts(bool input)
    {
        lock (_lookupsLock)
        {
            ref var index = ref input ? ref _inputVerdicts : ref _outputVerdicts;
            if (index is null)
            {
                index = new VerdictIndex();
                foreach (var i in _verdicts)
                {
                    var match = ArptablesRuleSet.Match(Rules[i], input);
                    if (match.Single is { } address)
                    {
                        index.FirstSingle.TryAdd(address, i);
                    }
                    else
                    {
                        index.Others.Add(i);
                        index.OtherMatches.Add(match);
                    }
                }
            }

            return index;
        }
    }

    /// <summary>The chain's verdict rules by their address match in one direction: those of one address by it, the rest in order.</summary>
    private sealed class VerdictIndex
    {
        public Dictionary<IPAddress, int> FirstSingle { get; } = [];

        public List<int> Others { get; } = [];

        public List<AddressMatch> OtherMatches { get; } = [];
    }

    /// <summary>
    /// True when the rule could end an ARP packet's way through the chain with anything but a drop: ACCEPT, a
    /// mangle (its verdict is ACCEPT), RETURN, or a jump to a chain that is not LvsDirect's.
    /// </summary>
    private static bool EndsWithoutDrop(ArpRule r) =>
        r.Target is not (null or "DROP" or "CLASSIFY" or ArptablesDialect.OwnInputChain or ArptablesDialect.OwnOutputChain);
}

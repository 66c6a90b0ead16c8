using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Host;

/// <summary>A snapshot of what the planner needs to know about a host: interfaces, default routes, ARP rules.</summary>
public sealed class HostState
{
    // Indexes built once per snapshot: without them a batch of N VIPs against N existing ones is quadratic,
    // which at 1000 VIPs costs more than the processes themselves.
    private readonly ILookup<IPAddress, InterfaceAddress> _addresses;
    private readonly ILookup<IPAddress, ArpRule> _inputRules;
    private readonly ILookup<IPAddress, ArpRule> _outputRules;

    public HostState(IReadOnlyList<NetInterface> interfaces, IReadOnlyList<DefaultRoute> defaultRoutes, ArptablesRuleSet? arpRules, ArptablesDialect? dialect)
    {
        Interfaces = interfaces;
        DefaultRoutes = defaultRoutes;
        ArpRules = arpRules;
        Dialect = dialect;
        _addresses = interfaces.SelectMany(i => i.Addresses).ToLookup(a => a.Address);
        var rules = arpRules?.Rules ?? [];
        _inputRules = dialect is null
            ? Array.Empty<ArpRule>().ToLookup(r => r.Destination!)
            : rules.Where(r => r.Destination is not null && r.IsInputDropFor(r.Destination, dialect)).ToLookup(r => r.Destination!);
        _outputRules = dialect is null
            ? Array.Empty<ArpRule>().ToLookup(r => r.Source!)
            : rules.Where(r => r.Source is not null && r.IsOutputMangleFor(r.Source, dialect)).ToLookup(r => r.Source!);
    }

    public IReadOnlyList<NetInterface> Interfaces { get; }

    public IReadOnlyList<DefaultRoute> DefaultRoutes { get; }

    /// <summary>Null when the caller did not ask for the ARP rules (they need root to read).</summary>
    public ArptablesRuleSet? ArpRules { get; }

    public ArptablesDialect? Dialect { get; }

    public IEnumerable<InterfaceAddress> AllAddresses => Interfaces.SelectMany(i => i.Addresses);

    public NetInterface? FindInterface(string name) => Interfaces.FirstOrDefault(i => i.Name == name);

    public NetInterface RequireInterface(string name) =>
        FindInterface(InputValidation.ValidateInterfaceName(name))
        ?? throw new LvsException(LvsErrorKind.UnknownInterface,
            $"There is no interface '{name}' on this host. Interfaces: {string.Join(", ", Interfaces.Select(i => i.Name))}.", name);

    /// <summary>The interface of the preferred default route: where a real server faces the director.</summary>
    public string DefaultInterfaceName =>
        DefaultRoutes.FirstOrDefault()?.InterfaceName
        ?? throw new LvsException(LvsErrorKind.UnknownInterface,
            "This host has no default route, so the VIP's interface cannot be chosen for you: give -InterfaceName.", null);

    public IEnumerable<InterfaceAddress> FindAddress(IPAddress address) => _addresses[address];

    public ArptablesDialect RequireDialect() =>
        Dialect ?? throw new InvalidOperationException("The ARP rules were not read.");

    public IEnumerable<ArpRule> InputRulesFor(IPAddress vip) => _inputRules[vip];

    public IEnumerable<ArpRule> OutputRulesFor(IPAddress vip) => _outputRules[vip];

    public SuppressionState SuppressionFor(IPAddress vip) =>
        (InputRulesFor(vip).Any(), OutputRulesFor(vip).Any()) switch
        {
            (true, true) => SuppressionState.Complete,
            (true, false) => SuppressionState.InputOnly,
            (false, true) => SuppressionState.OutputOnly,
            _ => SuppressionState.None,
        };

    /// <summary>Every address the ARP rules protect, in rule order: the VIPs of this host.</summary>
    public IReadOnlyList<IPAddress> SuppressedAddresses()
    {
        if (ArpRules is null)
        {
            return [];
        }

        var dialect = RequireDialect();
        var result = new List<IPAddress>();
        foreach (var r in ArpRules.Rules)
        {
            var vip = r.Destination ?? r.Source;
            if (vip is not null && (r.IsInputDropFor(vip, dialect) || r.IsOutputMangleFor(vip, dialect)) && !result.Contains(vip))
            {
                result.Add(vip);
            }
        }

        return result;
    }
}

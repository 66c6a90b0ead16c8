using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Host;

/// <summary>A snapshot of what the planner needs to know about a host: interfaces, default routes, ARP rules, ARP sysctls, LvsDirect's nftables table.</summary>
public sealed class HostState
{
    // Indexes built once per snapshot: without them a batch of N VIPs against N existing ones is quadratic,
    // which at 1000 VIPs costs more than the processes themselves.
    private readonly ILookup<IPAddress, InterfaceAddress> _addresses;
    private readonly ILookup<IPAddress, ArpRule> _inputRules;
    private readonly ILookup<IPAddress, ArpRule> _outputRules;
    private readonly ILookup<IPAddress, ArpRule> _ownInputRules;
    private readonly ILookup<IPAddress, ArpRule> _ownOutputRules;
    private readonly Dictionary<IPAddress, NftArpEntry> _nftArp;
    private readonly Dictionary<string, ChainView> _chains = new(StringComparer.Ordinal);
    private NetInterface? _lastRequired;
    private IReadOnlyList<IPAddress>? _gateways;

    /// <summary>The interface the sysctl method and IPv6 VIPs live on.</summary>
    public const string LoopbackInterface = "lo";

    public HostState(
        IReadOnlyList<NetInterface> interfaces,
        IReadOnlyList<DefaultRoute> defaultRoutes,
        ArptablesRuleSet? arpRules,
        ArptablesDialect? dialect,
        ArpSysctls? sysctls = null,
        IReadOnlyList<NftArpEntry>? nftArp = null)
    {
        NftArp = nftArp;
        _nftArp = (nftArp ?? []).ToDictionary(e => e.VirtualIP);
        Interfaces = interfaces;
        DefaultRoutes = defaultRoutes;
        ArpRules = arpRules;
        Dialect = dialect;
        Sysctls = sysctls;
        _addresses = interfaces.SelectMany(i => i.Addresses).ToLookup(a => a.Address);
        var rules = dialect is null ? [] : arpRules?.Rules ?? [];
        _inputRules = rules.Where(r => r.Destination is not null && r.IsInputDropFor(r.Destination, dialect!)).ToLookup(r => r.Destination!);
        _outputRules = rules.Where(r => r.Source is not null && r.IsOutputMangleFor(r.Source, dialect!)).ToLookup(r => r.Source!);
        _ownInputRules = rules.Where(r => r.Destination is not null && r.IsInputDropFor(r.Destination, ArptablesDialect.OwnInputChain)).ToLookup(r => r.Destination!);
        _ownOutputRules = rules.Where(r => r.Source is not null && r.IsOutputMangleFor(r.Source, ArptablesDialect.OwnOutputChain)).ToLookup(r => r.Source!);
    }

    public IReadOnlyList<NetInterface> Interfaces { get; }

    public IReadOnlyList<DefaultRoute> DefaultRoutes { get; }

    /// <summary>
    /// The gateways of every unicast route in every table (IPv4 and IPv6) where the routes were read, and of the
    /// default routes: addresses of other hosts this one sends through, never VIPs.
    /// </summary>
    public IReadOnlyList<IPAddress> Gateways
    {
        get => _gateways ??= DefaultRoutes.Select(r => r.Gateway).OfType<IPAddress>().Distinct().ToList();
        init => _gateways = value.Concat(DefaultRoutes.Select(r => r.Gateway).OfType<IPAddress>()).Distinct().ToList();
    }

    /// <summary>Null when the caller did not ask for the ARP rules (they need root to read).</summary>
    public ArptablesRuleSet? ArpRules { get; }

    public ArptablesDialect? Dialect { get; }

    /// <summary>The VIPs of LvsDirect's nftables ARP table; null when it was not read.</summary>
    public IReadOnlyList<NftArpEntry>? NftArp { get; }

    public NftArpEntry? NftEntryFor(IPAddress vip) => _nftArp.GetValueOrDefault(vip);

    /// <summary>This snapshot without the arptables rules: a plan made from it leaves arptables alone.</summary>
    public HostState WithoutArptables() => new(Interfaces, DefaultRoutes, null, null, Sysctls, NftArp) { Gateways = Gateways };

    /// <summary>This snapshot without LvsDirect's nftables table: a plan made from it leaves nftables alone.</summary>
    public HostState WithoutNftables() => new(Interfaces, DefaultRoutes, ArpRules, Dialect, Sysctls, null) { Gateways = Gateways };

    /// <summary>The arp_ignore/arp_announce values; null when they were not read.</summary>
    public ArpSysctls? Sysctls { get; }

    /// <summary>Interfaces that speak ARP: all but lo. Each must ignore requests for the VIPs on lo.</summary>
    public IEnumerable<string> ArpInterfaceNames => Interfaces.Where(i => i.Name != LoopbackInterface).Select(i => i.Name);

    /// <summary>
    /// Addresses on lo that can be VIPs of the sysctl method: IPv4 outside 127.0.0.0/8 (lo's own). Each needs
    /// arp_ignore/arp_announce, because with the defaults the host answers ARP on eth0 for addresses on lo too.
    /// </summary>
    public IEnumerable<InterfaceAddress> LoopbackVipAddresses =>
        FindInterface(LoopbackInterface)?.Addresses.Where(IsLoopbackVip) ?? [];

    public static bool IsLoopbackVip(InterfaceAddress a) =>
        a.InterfaceName == LoopbackInterface && a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
        && Ipv4.FirstOctet(a.Address) != 127;

    /// <summary>
    /// An IPv6 VIP: a global address on lo. Neighbour discovery answers only for addresses on the interface the
    /// solicitation came in on, so on lo it needs no suppression at all.
    /// </summary>
    public static bool IsLoopbackIPv6Vip(InterfaceAddress a) =>
        a.InterfaceName == LoopbackInterface && a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        && !a.Address.Equals(IPAddress.IPv6Loopback) && a.Scope == "global";

    /// <summary>How the sysctls keep addresses on lo out of ARP on this host (Unknown when they were not read).</summary>
    public SuppressionState SysctlSuppression => Sysctls?.StateOn(ArpInterfaceNames) ?? SuppressionState.Unknown;

    /// <summary>
    /// Arptables when arptables rules name the VIP; else Nftables when LvsDirect's nftables table does; else
    /// Sysctl for a VIP on lo kept out of ARP by the sysctls; else null (not suppressed, or an IPv6 VIP).
    /// </summary>
    public ArpMethod? MethodFor(IPAddress vip)
    {
        if (ArpSuppressionFor(vip) != SuppressionState.None)
        {
            return ArpMethod.Arptables;
        }

        if (NftSuppressionFor(vip) != SuppressionState.None)
        {
            return ArpMethod.Nftables;
        }

        return FindAddress(vip).Any(IsLoopbackVip) && SysctlSuppression is not (SuppressionState.None or SuppressionState.Unknown)
            ? ArpMethod.Sysctl
            : null;
    }

    public IEnumerable<InterfaceAddress> AllAddresses => Interfaces.SelectMany(i => i.Addresses);

    public NetInterface? FindInterface(string name) => Interfaces.FirstOrDefault(i => i.Name == name);

    /// <summary>The interface of that (valid) name. A call asks for the same one once per VIP: the last one found is kept (one reference, read and written whole, so threads need no lock).</summary>
    public NetInterface RequireInterface(string name)
    {
        if (_lastRequired is { } last && last.Name == name)
        {
            return last;
        }

        var found = FindInterface(InputValidation.ValidateInterfaceName(name))
            ?? throw new LvsException(LvsErrorKind.UnknownInterface,
                $"There is no interface '{name}' on this host. Interfaces: {string.Join(", ", Interfaces.Select(i => i.Name))}.", name);
        _lastRequired = found;
        return found;
    }

    /// <summary>The interface of the preferred default route: where a real server faces the director.</summary>
    public string DefaultInterfaceName =>
        DefaultRoutes.FirstOrDefault()?.InterfaceName
        ?? throw new LvsException(LvsErrorKind.UnknownInterface,
            "This host has no default route, so the VIP's interface cannot be chosen for you: give -InterfaceName.", null);

    public IEnumerable<InterfaceAddress> FindAddress(IPAddress address) => _addresses[address];

    /// <summary>The address on that interface, or null: asked once per VIP of a call, so a loop, not LINQ.</summary>
    public InterfaceAddress? FindAddressOn(IPAddress address, string interfaceName)
    {
        foreach (var a in _addresses[address])
        {
            if (a.InterfaceName == interfaceName)
            {
                return a;
            }
        }

        return null;
    }

    public ArptablesDialect RequireDialect() =>
        Dialect ?? throw new InvalidOperationException("The ARP rules were not read.");

    /// <summary>Every drop rule of the VIP: LvsDirect's (in its own chain) first, then those in the built-in chain.</summary>
    public IEnumerable<ArpRule> InputRulesFor(IPAddress vip) => _ownInputRules[vip].Concat(_inputRules[vip]);

    /// <summary>Every mangle rule of the VIP: LvsDirect's (in its own chain) first, then those in the built-in chain.</summary>
    public IEnumerable<ArpRule> OutputRulesFor(IPAddress vip) => _ownOutputRules[vip].Concat(_outputRules[vip]);

    /// <summary>The VIP's drop rules in LvsDirect's chain <see cref="ArptablesDialect.OwnInputChain"/>.</summary>
    public IEnumerable<ArpRule> OwnInputRulesFor(IPAddress vip) => _ownInputRules[vip];

    /// <summary>The VIP's mangle rules in LvsDirect's chain <see cref="ArptablesDialect.OwnOutputChain"/>.</summary>
    public IEnumerable<ArpRule> OwnOutputRulesFor(IPAddress vip) => _ownOutputRules[vip];

    /// <summary>The VIP's seed-shaped drop rules in the built-in chain: foreign unless the caller migrates them.</summary>
    public IEnumerable<ArpRule> BuiltinInputRulesFor(IPAddress vip) => _inputRules[vip];

    /// <summary>The VIP's seed-shaped mangle rules in the built-in chain: foreign unless the caller migrates them.</summary>
    public IEnumerable<ArpRule> BuiltinOutputRulesFor(IPAddress vip) => _outputRules[vip];

    /// <summary>True when the filter table has the chain (declared, or named by a rule).</summary>
    public bool HasChain(string chain) => ArpRules?.ChainNames.Contains(chain) == true;

    /// <summary>
    /// Why the VIP's arptables rules do not all take effect: a rule ahead of them (or ahead of the jump into
    /// LvsDirect's chain) that could accept the VIP's ARP first, or a missing jump. Null when every rule the VIP
    /// has is reached, or it has none.
    /// </summary>
    public string? ShadowFor(IPAddress vip)
    {
        if (Dialect is null || ArpRules is null)
        {
            return null;
        }

        var input = InputRulesFor(vip).ToList();
        var output = OutputRulesFor(vip).ToList();
        string? reason = null;
        if (input.Count > 0 && !input.Any(r => Blocker(r, vip, true, out reason) is null))
        {
            return reason;
        }

        return output.Count > 0 && !output.Any(r => Blocker(r, vip, false, out reason) is null) ? reason : null;
    }

    /// <summary>
    /// The first rule the kernel tries before <paramref name="rule"/> that could accept the VIP's ARP; for a rule in
    /// LvsDirect's chain, the rules ahead of the jump to it count too (and no jump at all blocks it). Null when the rule is reached.
    /// </summary>
    private ArpRule? Blocker(ArpRule rule, IPAddress vip, bool input, out string? reason)
    {
        reason = null;
        var chain = Chain(rule.Chain);
        var ahead = chain.FirstAcceptingBefore(chain.IndexOf(rule), vip, input);
        if (ahead is not null)
        {
            reason = $"'{ahead.RawLine}' comes before '{rule.RawLine}'";
            return ahead;
        }

        if (rule.Chain is not (ArptablesDialect.OwnInputChain or ArptablesDialect.OwnOutputChain))
        {
            return null;
        }

        var builtinName = Dialect!.BuiltinFor(rule.Chain);
        var builtin = Chain(builtinName);
        var jump = builtin.FirstJumpTo(rule.Chain);
        if (jump < 0)
        {
            reason = $"no rule of {builtinName} jumps to {rule.Chain}";
            return rule;
        }

        ahead = builtin.FirstAcceptingBefore(jump, vip, input);
        if (ahead is not null)
        {
            reason = $"'{ahead.RawLine}' comes before the jump to {rule.Chain}";
        }

        return ahead;
    }

    /// <summary>The rules of one chain of the filter table, with what the shadow check asks of them indexed once.</summary>
    public ChainView Chain(string name)
    {
        lock (_chains)
        {
            if (!_chains.TryGetValue(name, out var view))
            {
                view = new ChainView(ArpRules?.RulesOf(name) ?? []);
                _chains[name] = view;
            }

            return view;
        }
    }

    /// <summary>
    /// The VIP's suppression by whichever method holds it: its arptables rules, else its entry in the nftables
    /// table, else for a VIP on lo the sysctls. An IPv6 VIP on lo needs none and is Complete.
    /// </summary>
    public SuppressionState SuppressionFor(IPAddress vip)
    {
        if (FindAddress(vip).Any(IsLoopbackIPv6Vip))
        {
            return SuppressionState.Complete;
        }

        var rules = ArpSuppressionFor(vip);
        if (rules == SuppressionState.None)
        {
            rules = NftSuppressionFor(vip);
        }

        return rules == SuppressionState.None && Sysctls is not null && FindAddress(vip).Any(IsLoopbackVip) ? SysctlSuppression : rules;
    }

    /// <summary>The VIP's suppression by rules alone (arptables, else LvsDirect's nftables table), never the sysctls.</summary>
    public SuppressionState RuleSuppressionFor(IPAddress vip)
    {
        var rules = ArpSuppressionFor(vip);
        return rules == SuppressionState.None ? NftSuppressionFor(vip) : rules;
    }

    /// <summary>The real IP outgoing ARP for the VIP is rewritten to, by an arptables rule or the nftables table; null when none.</summary>
    public IPAddress? RuleRealIPFor(IPAddress vip) =>
        OutputRulesFor(vip).Select(r => r.MangleIpSource).FirstOrDefault(a => a is not null) ?? NftEntryFor(vip)?.MangleTo;

    private SuppressionState NftSuppressionFor(IPAddress vip) =>
        NftEntryFor(vip) switch
        {
            { Drop: true, MangleTo: not null } => SuppressionState.Complete,
            { Drop: true } => SuppressionState.InputOnly,
            { MangleTo: not null } => SuppressionState.OutputOnly,
            _ => SuppressionState.None,
        };

    private SuppressionState ArpSuppressionFor(IPAddress vip) =>
        (InputRulesFor(vip).Any(), OutputRulesFor(vip).Any()) switch
        {
            (false, false) => SuppressionState.None,
            _ when ShadowFor(vip) is not null => SuppressionState.Shadowed,
            (true, true) => SuppressionState.Complete,
            (true, false) => SuppressionState.InputOnly,
            _ => SuppressionState.OutputOnly,
        };

    /// <summary>
    /// The VIPs of this host: every address the arptables rules protect, in rule order, then those of the
    /// nftables table, the IPv6 addresses on lo, and the IPv4 addresses on lo the sysctls keep out of ARP.
    /// </summary>
    public IReadOnlyList<IPAddress> SuppressedAddresses()
    {
        var result = new List<IPAddress>();
        if (ArpRules is not null)
        {
            var dialect = RequireDialect();
            var seen = new HashSet<IPAddress>();
            foreach (var r in ArpRules.Rules)
            {
                var vip = r.Destination ?? r.Source;
                if (vip is not null
                    && (r.IsInputDropFor(vip, dialect) || r.IsOutputMangleFor(vip, dialect)
                        || r.IsInputDropFor(vip, ArptablesDialect.OwnInputChain) || r.IsOutputMangleFor(vip, ArptablesDialect.OwnOutputChain))
                    && seen.Add(vip))
                {
                    result.Add(vip);
                }
            }
        }

        result.AddRange((NftArp ?? []).Select(e => e.VirtualIP).Where(a => !result.Contains(a)));
        result.AddRange(FindInterface(LoopbackInterface)?.Addresses.Where(IsLoopbackIPv6Vip).Select(a => a.Address).Distinct() ?? []);
        if (SysctlSuppression is not (SuppressionState.None or SuppressionState.Unknown))
        {
            result.AddRange(LoopbackVipAddresses.Select(a => a.Address).Where(a => !result.Contains(a)).Distinct());
        }

        return result;
    }
}

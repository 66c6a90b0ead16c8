using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using static LvsDirect.Core.Diagnostics.InterfaceSysctls;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The snapshot and request of one diagnosis, with the facts several checks derive from them, derived once.</summary>
public sealed class CheckContext
{
    private static readonly ArptablesDialect[] AllChainNames = [new(ArptablesFlavor.Nft), new(ArptablesFlavor.Jf)];

    public CheckContext(RealServerSnapshot snapshot, DiagnosisRequest request, IReadOnlyList<IPAddress> vips)
    {
        Snapshot = snapshot;
        Request = request;
        Vips = vips;
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

    /// <summary>The VIPs checked (given, or discovered on the host).</summary>
    public IReadOnlyList<IPAddress> Vips { get; }

    public IReadOnlyList<string> ArpInterfaces { get; }

    public string? DefaultInterface { get; }

    public string? DirectorInterface { get; }

    public PersistedConfig Persisted => Snapshot.Persisted;

    public int Effective(string iface, string key) => Snapshot.Sysctls.Effective(iface, key);

    /// <summary>The subject of one VIP, with its live addresses, boot-file address and REDIRECT rules.</summary>
    public VipSubject SubjectFor(IPAddress vip) => new(
        vip,
        Snapshot.State.FindAddress(vip).ToList(),
        Snapshot.Persisted.RcAddresses.FirstOrDefault(p => p.Address.Equals(vip)),
        (Snapshot.Redirects ?? []).Where(r => r.VirtualIP.Equals(vip)).ToList());

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
    public (bool Ok, string Why) SysctlMethod(IPAddress vip, IReadOnlyList<InterfaceAddress> live)
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

    /// <summary>One result under this host's name; a Pass never carries a remediation.</summary>
    public RealServerCheck Result(string check, string target, CheckStatus status, string detail, string? remediation = null) => new()
    {
        ComputerName = Snapshot.ComputerName,
        Check = check,
        Target = target,
        Status = status,
        Detail = detail,
        Remediation = status == CheckStatus.Pass ? null : remediation,
    };

    /// <summary>Export-RcLocal makes the file executable and moves the block right after the `#!` line; CRLF it cannot fix.</summary>
    public static string BlockRemedy(PersistedConfig p) =>
        p.BlockProblem?.Contains("CRLF", StringComparison.Ordinal) == true
            ? $"sed -i 's/\\r$//' {p.RcLocalPath}; Export-RcLocal"
            : p.BlockProblem?.Contains("'#!'", StringComparison.Ordinal) == true
                ? $"Add '#!/bin/sh' as the first line of {p.RcLocalPath}, then Export-RcLocal"
                : "Export-RcLocal";

    /// <summary>A drop rule for the VIP in LvsDirect's chain or, as earlier versions and the seed wrote it, in a built-in one.</summary>
    public static bool IsInputDrop(ArpRule r, IPAddress vip) =>
        r.IsInputDropFor(vip, ArptablesDialect.OwnInputChain) || AllChainNames.Any(dialect => r.IsInputDropFor(vip, dialect));

    public static bool IsOutputMangle(ArpRule r, IPAddress vip) =>
        r.IsOutputMangleFor(vip, ArptablesDialect.OwnOutputChain) || AllChainNames.Any(dialect => r.IsOutputMangleFor(vip, dialect));

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

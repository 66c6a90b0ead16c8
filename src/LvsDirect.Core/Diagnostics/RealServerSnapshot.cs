using System.Net;
using LvsDirect.Core.Host;

namespace LvsDirect.Core.Diagnostics;

/// <summary>Everything the checks look at, read once: the checks themselves never touch the host.</summary>
public sealed class RealServerSnapshot
{
    public required string ComputerName { get; init; }

    /// <summary>Addresses, default routes and (when they could be read) the live arptables rules.</summary>
    public required HostState State { get; init; }

    /// <summary>
    /// Why the live arptables rules are unknown (not root), or null when <see cref="HostState.ArpRules"/> holds
    /// them. When arptables is not installed there are no rules, which is known, not unknown.
    /// </summary>
    public string? ArpRulesUnknownReason { get; init; }

    public bool ArptablesInstalled { get; init; } = true;

    /// <summary>nft is installed, so LvsDirect's nftables ARP table may hold VIPs (read into <see cref="HostState.NftArp"/> as root).</summary>
    public bool NftInstalled { get; init; }

    /// <summary>LvsDirect's iptables REDIRECT rules (the method without a VIP address); null when they were not read.</summary>
    public IReadOnlyList<Parsing.RedirectRule>? Redirects { get; init; }

    public required InterfaceSysctls Sysctls { get; init; }

    /// <summary>Listening sockets; null when no port was asked about.</summary>
    public IReadOnlyList<ListeningSocket>? Listeners { get; init; }

    public required PersistedConfig Persisted { get; init; }
}

/// <summary>A service a real server must answer: VIP, port and protocol (tcp, udp, sctp).</summary>
public sealed record ServiceEndpoint(IPAddress VirtualIP, int Port, string Protocol)
{
    public override string ToString() => $"{VirtualIP}:{Port}/{Protocol}";
}

/// <summary>What to check: the VIPs (null: every VIP the host shows or its boot files mention), services, director.</summary>
public sealed class DiagnosisRequest
{
    public IReadOnlyList<IPAddress>? VirtualIPs { get; init; }

    public IReadOnlyList<ServiceEndpoint> Services { get; init; } = [];

    public IPAddress? DirectorAddress { get; init; }
}

using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Diagnostics.Checks;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics;

/// <summary>
/// The checks of Test-LvsRealServer, as pure functions of a <see cref="RealServerSnapshot"/>: every way an LVS-DR
/// real server fails quietly (SPEC §1 and §5) becomes a Fail or Warning naming the command that fixes it. Each
/// check is its own <see cref="IRealServerCheck"/>; this runs them in a fixed order, per VIP, then for the host,
/// then per service, so every transport gives the same results in the same order.
/// </summary>
public static class RealServerDiagnosis
{
    /// <summary>Every check, in the order its results appear for a subject.</summary>
    public static IReadOnlyList<IRealServerCheck> Checks { get; } =
    [
        new VipPresentCheck(),
        new InterfaceUpCheck(),
        new VipPrefixCheck(),
        new NeighbourDiscoveryCheck(),
        new ArpSuppressionCheck(),
        new ArpAnnounceCheck(),
        new ReversePathFilterCheck(),
        new VipPersistedCheck(),
        new SuppressionPersistedCheck(),
        new ArpSysctlScopeCheck(),
        new RcLocalCheck(),
        new DefaultGatewayCheck(),
        new ListenerCheck(),
    ];

    /// <summary>
    /// What a diagnosis reads from a host: what its checks declare, and what finding the VIPs takes (everything
    /// but the listening sockets, which only services need).
    /// </summary>
    public static HostReads ReadsFor(bool withServices)
    {
        var reads = Checks.Aggregate(DiscoveryReads, (all, c) => all | c.Reads);
        return withServices ? reads : reads & ~HostReads.Listeners;
    }

    /// <summary>The reads <see cref="DiscoverVips"/> looks at.</summary>
    public const HostReads DiscoveryReads = HostReads.Addresses | HostReads.ArpRules | HostReads.NftArp | HostReads.Redirects | HostReads.BootFiles;

    public static IReadOnlyList<RealServerCheck> Run(RealServerSnapshot s, DiagnosisRequest request)
    {
        var context = new CheckContext(s, request, request.VirtualIPs ?? DiscoverVips(s));
        var subjects = context.Vips.Select<IPAddress, CheckSubject>(context.SubjectFor)
            .Append(HostSubject.Instance)
            .Concat(request.Services.Select(service => new ServiceSubject(service)));
        return subjects.SelectMany(subject => Checks.SelectMany(check => check.Run(context, subject))).ToList();
    }

    /// <summary>
    /// The VIPs of a host when none are named: suppressed addresses, global addresses on lo (the sysctl method), and
    /// every VIP its boot files mention, so drift in either direction is found.
    /// </summary>
    public static IReadOnlyList<IPAddress> DiscoverVips(RealServerSnapshot s)
    {
        var result = new List<IPAddress>();
        void Add(IPAddress a)
        {
            if (a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !result.Contains(a))
            {
                result.Add(a);
            }
        }

        foreach (var a in s.State.SuppressedAddresses())
        {
            Add(a);
        }

        foreach (var a in s.State.FindInterface("lo")?.Addresses ?? [])
        {
            if (a.Scope == "global" && !IPAddress.IsLoopback(a.Address))
            {
                Add(a.Address);
            }
        }

        // A /32 beside an interface's own address is a VIP added by hand, perhaps without suppression: exactly the
        // real server that steals the director's traffic, so it must not escape the check.
        foreach (var nic in s.State.Interfaces.Where(i => i.Name != "lo"))
        {
            foreach (var a in nic.Addresses.Where(a => a.PrefixLength == 32 && a.Scope == "global" && !a.Address.Equals(nic.PrimaryIPv4)))
            {
                Add(a.Address);
            }

            // Likewise an IPv6 /128 on an interface: a VIP that answers neighbour solicitations there.
            foreach (var a in nic.Addresses.Where(a => a.PrefixLength == 128 && a.Scope == "global" && a.Address.AddressFamily == AddressFamily.InterNetworkV6))
            {
                Add(a.Address);
            }
        }

        // The REDIRECT method's VIPs are on no interface at all.
        foreach (var r in s.Redirects ?? [])
        {
            Add(r.VirtualIP);
        }

        foreach (var e in s.Persisted.Nft?.Entries ?? [])
        {
            Add(e.VirtualIP);
        }

        foreach (var a in s.Persisted.RcAddresses)
        {
            Add(a.Address);
        }

        foreach (var n in s.Persisted.NativeVips)
        {
            Add(n.Address);
        }

        foreach (var set in new[] { s.Persisted.RcRules, s.Persisted.SavedRules })
        {
            foreach (var r in set?.Rules ?? [])
            {
                var vip = r.Destination ?? r.Source;
                if (vip is not null && (CheckContext.IsInputDrop(r, vip) || CheckContext.IsOutputMangle(r, vip)))
                {
                    Add(vip);
                }
            }
        }

        return result;
    }
}

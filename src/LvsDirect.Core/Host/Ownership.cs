using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Core.Host;

/// <summary>
/// Which VIPs of a host LvsDirect manages: those in its record (<see cref="VipRecord"/>), and, for hosts set up
/// by an earlier version that kept no record, those its rc.local block or systemd unit brings up. Every other
/// address is someone else's: desired state, pipeline removal and Export-RcLocal leave it alone, and naming it
/// is refused (<see cref="LvsErrorKind.NotManaged"/>) unless the caller adopts it.
/// </summary>
public sealed class Ownership
{
    public Ownership(IReadOnlyList<ManagedVip> recorded, IReadOnlySet<IPAddress>? fromBootFiles = null, IReadOnlySet<IPAddress>? builtinRuleVips = null)
    {
        Recorded = recorded;
        FromBootFiles = fromBootFiles ?? new HashSet<IPAddress>();
        BuiltinRuleVips = builtinRuleVips ?? new HashSet<IPAddress>();
        Managed = recorded.Select(v => v.Address).Concat(FromBootFiles).ToHashSet();
    }

    /// <summary>Nothing is known to be LvsDirect's (a host where the record cannot be read).</summary>
    public static Ownership None { get; } = new([]);

    public IReadOnlyList<ManagedVip> Recorded { get; }

    /// <summary>VIPs an LvsDirect boot block or unit brings up: managed, so that current users keep working after an upgrade.</summary>
    public IReadOnlySet<IPAddress> FromBootFiles { get; }

    /// <summary>VIPs whose rules an earlier LvsDirect's boot block puts in the built-in chains: those rules are LvsDirect's.</summary>
    public IReadOnlySet<IPAddress> BuiltinRuleVips { get; }

    public IReadOnlySet<IPAddress> Managed { get; }

    public bool IsManaged(IPAddress address) => Managed.Contains(address);

    /// <summary>
    /// Whether the host's boot files describe <paramref name="scope"/>: they run in the namespace the system
    /// boots in (the host's, or a container's with its own root), never in one made with ip netns, which shares
    /// the host's /etc. A boot file named by the caller (-RcLocalPath) always counts.
    /// </summary>
    public static bool BootFilesApply(HostScopeKind scope, bool rcLocalGiven) => rcLocalGiven || scope != HostScopeKind.Named;

    /// <summary>This host's ownership: the record at <paramref name="recordPath"/> and, where they apply, the boot files on disk.</summary>
    public static Ownership Read(string recordPath, HostScopeKind scope, string? rcLocalPath = null)
    {
        var recorded = VipRecord.Load(recordPath);
        if (!BootFilesApply(scope, rcLocalPath is not null))
        {
            return new Ownership(recorded);
        }

        string? ReadOrNull(string path)
        {
            try
            {
                return AtomicFile.ReadAllTextOrNull(path);
            }
            catch (LvsException ex) when (ex.Kind == LvsErrorKind.FileError)
            {
                return null;
            }
        }

        var rc = rcLocalPath ?? RcLocal.DefaultPath();
        return FromTexts(recorded, ReadOrNull(rc), rc, ReadOrNull(SystemdUnit.DefaultPath));
    }

    /// <summary>
    /// Ownership from the record and the boot files' texts (read here or over the agentless transport). Boot
    /// blocks are read by their address lines (`ip addr add|replace … dev …`), which every version of the block has.
    /// </summary>
    public static Ownership FromTexts(IReadOnlyList<ManagedVip> recorded, string? rcLocalText, string rcLocalPath, string? unitText)
    {
        var rc = PersistedConfig.Parse(rcLocalPath, rcLocalText, rcLocalExecutable: true, null, null);
        var unit = PersistedConfig.WithSystemdUnit(PersistedConfig.Parse(null, null, false, null, null), SystemdUnit.DefaultPath, unitText);
        var fromBoot = rc.RcAddresses.Concat(unit.RcAddresses).Select(a => a.Address).ToHashSet();
        var builtin = new[] { rc.RcRules, unit.RcRules }
            .SelectMany(r => r?.Rules ?? [])
            .Where(r => r.Chain is "INPUT" or "IN" or "OUTPUT" or "OUT")
            .Select(r => r.Destination ?? r.Source)
            .OfType<IPAddress>()
            .Where(fromBoot.Contains)
            .ToHashSet();
        return new Ownership(recorded, fromBoot, builtin);
    }

    /// <summary>
    /// The addresses among <paramref name="named"/> that are configured on the host as VIPs and are not LvsDirect's.
    /// An address that can be no VIP here (the host's own, a gateway's) is left to the planner's refusal, which says why.
    /// </summary>
    public IReadOnlyList<IPAddress> Unmanaged(HostState state, IEnumerable<IPAddress> named) =>
        // Filtered before Distinct: nearly every address named is new or managed, and the few left are the ones to dedupe.
        named.Where(a => !IsManaged(a) && state.FindAddress(a).Any()).Distinct().Where(a => Planning.VipValidation.Refuse(state, a) is null).ToList();

    /// <summary>
    /// Refuses the call when it names a VIP that is configured here but LvsDirect did not create, unless
    /// <paramref name="adopt"/>: then those VIPs are returned, to be recorded as managed by this run.
    /// </summary>
    public IReadOnlyList<IPAddress> RequireManaged(HostState state, IEnumerable<IPAddress> named, bool adopt, string command)
    {
        var foreign = Unmanaged(state, named);
        if (foreign.Count > 0 && !adopt)
        {
            var list = string.Join(", ", foreign);
            throw new LvsException(LvsErrorKind.NotManaged,
                $"{list} {(foreign.Count == 1 ? "is" : "are")} configured on this host, but not by LvsDirect (it is not in its ownership record), so {command} leaves {(foreign.Count == 1 ? "it" : "them")} alone. "
                + $"To let LvsDirect take {(foreign.Count == 1 ? "it" : "them")} over (its address and its arptables rules become LvsDirect's), run the command again with -Adopt; -WhatIf shows the adoption first.",
                list);
        }

        return foreign;
    }

    /// <summary>
    /// Tells the planner which VIPs' rules in the built-in chains are LvsDirect's: those an earlier version's
    /// boot block put there, and those of VIPs adopted in this run.
    /// </summary>
    public void MarkBuiltinRules(DesiredChange change, IEnumerable<IPAddress> adopted)
    {
        change.MigrateBuiltinRules.UnionWith(BuiltinRuleVips);
        change.MigrateBuiltinRules.UnionWith(adopted);
    }

    /// <summary>
    /// The record after a run: what it held (plus the VIPs known only from boot files, as <paramref name="state"/>
    /// shows them, so the record takes them over), without <paramref name="removed"/>, with <paramref name="added"/>.
    /// </summary>
    public IReadOnlyList<ManagedVip> After(HostState state, IEnumerable<ManagedVip> added, IEnumerable<IPAddress> removed)
    {
        var gone = removed.ToHashSet();
        var result = new Dictionary<IPAddress, ManagedVip>();
        foreach (var v in Recorded)
        {
            result[v.Address] = v;
        }

        foreach (var a in FromBootFiles.Where(a => !result.ContainsKey(a)))
        {
            if (state.FindAddress(a).FirstOrDefault() is { } live)
            {
                result[a] = new ManagedVip(a, live.PrefixLength, live.InterfaceName, live.AliasLabel);
            }
        }

        foreach (var a in gone)
        {
            result.Remove(a);
        }

        foreach (var v in added)
        {
            result[v.Address] = v;
        }

        return result.Values.ToList();
    }

    /// <summary>Whether <paramref name="next"/> differs from the record (so a run that changes nothing writes nothing).</summary>
    public bool Differs(IReadOnlyList<ManagedVip> next) => !VipRecord.SameRecord(next, Recorded);
}

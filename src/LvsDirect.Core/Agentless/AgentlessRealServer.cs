using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Pool;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Agentless;

/// <summary>What Set-LvsRealServer asks of one host, as a local run would be asked it.</summary>
/// <param name="Convert">The method was given explicitly: VIPs another method keeps out of ARP are switched to it.</param>
/// <param name="SysctlStatePath">The sysctl method's record on the host; null for its namespace's default.</param>
public sealed record RealServerRequest(
    IReadOnlyList<(IPAddress Address, int PrefixLength)> Vips,
    string? InterfaceName,
    ArpMethod Method,
    bool Convert,
    bool Adopt,
    string? RcLocalPath = null,
    string? SysctlStatePath = null);

/// <summary>A host's plan over the agentless transport and the operations that carry it out there, in order.</summary>
public sealed record AgentlessRealServerPlan(RealServerPlan Planned, HostState State, Ownership Ownership, Ownership ManagedAfter, IReadOnlyList<RemoteOperation> Operations);

/// <summary>
/// Set-LvsRealServer over ssh: the snapshot the script read becomes the same <see cref="HostState"/>, ownership
/// and sysctl record a local run reads, <see cref="RealServerPlanner"/> makes the very plan it makes, and the
/// local executor's side effects become operations in its order: the sysctl record written before the first
/// step (so a run that stops half-way still knows what to restore), the steps, then the record without what was
/// restored, then the ownership record. The script stops at the first failed operation, as the executor does.
/// </summary>
public static class AgentlessRealServer
{
    /// <summary>The reads a plan needs beyond addresses and arptables rules.</summary>
    public const RemoteReads Reads = RemoteReads.Planning;

    /// <summary>Programs a host needs for <paramref name="method"/> whatever the plan: the script's own and the method's tool.</summary>
    public static IReadOnlyList<string> ProgramsFor(ArpMethod method) =>
        ["ip", "flock", "base64", method switch { ArpMethod.Nftables => "nft", ArpMethod.Sysctl => "sysctl", _ => "arptables" }];

    /// <summary>
    /// The plan for <paramref name="request"/> on the host <paramref name="snapshot"/> describes. Refuses, before
    /// anything changes there: a login that is not root (NotRoot), a program the method or a step needs that the
    /// host lacks (ProgramNotFound naming its package), and any VIP the planner refuses.
    /// </summary>
    public static AgentlessRealServerPlan Plan(RemoteSnapshot snapshot, RealServerRequest request, string hostLabel)
    {
        if (!snapshot.IsRoot)
        {
            throw new LvsException(LvsErrorKind.NotRoot,
                $"{hostLabel}: Set-LvsRealServer needs root on the host (ip, arptables, nft and sysctl change kernel state only for root); log in as root with -UserName root.",
                hostLabel);
        }

        RequirePrograms(snapshot, ProgramsFor(request.Method), hostLabel);
        var state = snapshot.ToHostState();
        var ownership = snapshot.ReadOwnership(request.RcLocalPath);
        var recordPath = request.SysctlStatePath ?? snapshot.SysctlRecordPath ?? throw NoStateFolder(hostLabel);
        var (records, stale) = snapshot.ReadSysctlRecords(recordPath);
        var planned = RealServerPlanner.Create(state, ownership, request.Vips, request.InterfaceName, request.Method, records, request.Convert, request.Adopt);
        if (planned.Plan.Rejected.Count > 0)
        {
            throw planned.Plan.Rejected[0];
        }

        RequirePrograms(snapshot, planned.Plan.Steps.Select(s => s.Command.Program), hostLabel);
        var stamp = snapshot.Stamp ?? throw new InvalidOperationException("The namespace stamp was not read.");
        var plan = planned.Plan;
        var operations = new List<RemoteOperation>();
        var known = records.Concat(plan.SysctlRecorded.Where(r => records.All(k => k.Key != r.Key))).ToList();
        if (plan.SysctlRecorded.Count > 0)
        {
            operations.Add(new RemoteFileWrite(recordPath, SysctlStateFile.Render(known, stamp), "0600"));
        }

        operations.AddRange(plan.Steps.Select(s => new RemoteCommandOperation(s.Command)));
        if (plan.SysctlForgotten.Count > 0 || (stale && plan.SysctlRecorded.Count == 0))
        {
            var forget = plan.SysctlForgotten.Select(r => r.Key).ToHashSet();
            var left = known.Where(r => !forget.Contains(r.Key)).ToList();
            operations.Add(left.Count == 0 ? new RemoteFileRemove(recordPath) : new RemoteFileWrite(recordPath, SysctlStateFile.Render(left, stamp), "0600"));
        }

        var next = ownership.After(state, planned.Recorded, planned.Forgotten);
        if (ownership.Differs(next))
        {
            operations.Add(new RemoteFileWrite(snapshot.VipRecordPath ?? throw NoStateFolder(hostLabel), VipRecord.Render(next), "0600"));
        }

        return new AgentlessRealServerPlan(planned, state, ownership, new Ownership(next, ownership.FromBootFiles, ownership.BuiltinRuleVips), operations);
    }

    private static void RequirePrograms(RemoteSnapshot snapshot, IEnumerable<string> programs, string hostLabel)
    {
        foreach (var program in programs.Distinct())
        {
            if (!snapshot.Programs.Contains(program))
            {
                var missing = ToolLocator.NotFound(program);
                throw new LvsException(LvsErrorKind.ProgramNotFound, $"{hostLabel}: {missing.Message}", hostLabel);
            }
        }
    }

    private static LvsException NoStateFolder(string hostLabel) =>
        new(LvsErrorKind.RemoteFailed, $"{hostLabel}: the agentless script did not name its state folder.", hostLabel);
}

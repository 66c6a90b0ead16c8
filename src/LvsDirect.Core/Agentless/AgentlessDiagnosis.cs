using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Diagnostics.Checks;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Agentless;

/// <summary>
/// Test-LvsRealServer over the agentless transport: the server runs the reads <see cref="RealServerReads"/>
/// declares and returns them raw, and the same builder as for a local probe makes the snapshot, so the very
/// same checks run here. Set-LvsRealServer -Persist reads and writes the same boot files.
/// </summary>
public static class AgentlessDiagnosis
{
    /// <summary>Where a host without -RcLocalPath keeps rc.local: /etc/rc.d/rc.local when /etc/rc.d exists.</summary>
    public const string RcDFolder = "/etc/rc.d";

    /// <summary>The files a diagnosis reads: the rc.local candidates (or the given one) and the saved rules.</summary>
    public static IReadOnlyList<string> FilesToRead(string? rcLocalPath, string? savedRulesPath) =>
        rcLocalPath is null
            ? [RcDFolder, "/etc/rc.d/rc.local", "/etc/rc.local", savedRulesPath ?? SavedArpRulesTarget.DefaultPath]
            : [rcLocalPath, savedRulesPath ?? SavedArpRulesTarget.DefaultPath];

    /// <summary>
    /// The files that say which VIPs an earlier LvsDirect brought up (its rc.local block and unit); the record
    /// itself the script adds to what it reads.
    /// </summary>
    public static IReadOnlyList<string> OwnershipFiles(string? rcLocalPath) =>
        rcLocalPath is null ? [RcDFolder, "/etc/rc.d/rc.local", "/etc/rc.local", SystemdUnit.DefaultPath] : [rcLocalPath, SystemdUnit.DefaultPath];

    /// <summary>The rc.local of a host without -RcLocalPath, from the files <see cref="FilesToRead"/> asked for.</summary>
    public static string RcLocalPathOn(RemoteSnapshot remote) => RcLocal.DefaultPath(remote.Exists(RcDFolder));

    /// <summary>
    /// Reads a server for a diagnosis over one agentless session: the files and commands
    /// <see cref="RealServerReads"/> declares, as the local probe reads them here.
    /// </summary>
    public static RemoteSnapshot Read(AgentlessChannel channel, SshTarget target, DiagnosisPaths paths, HostReads reads, CancellationToken cancellationToken)
    {
        var commands = RealServerReads.CommandsFor(reads).Where(c => !RealServerReads.StateDumpReads.Contains(c.Name)).ToList();
        var run = channel.Run(
            target,
            RealServerReads.Files(paths, reads),
            _ => null,
            cancellationToken,
            RealServerReads.ReadsSysctls(reads) ? RemoteReads.Sysctl : RemoteReads.None,
            commands);
        return run.Snapshot!;
    }

    /// <summary>Test-LvsRealServer's snapshot of a server, built from the session's reads as a local one is.</summary>
    public static RealServerSnapshot Diagnose(AgentlessChannel channel, SshTarget target, DiagnosisPaths paths, bool withListeners, CancellationToken cancellationToken) =>
        RealServerSnapshotBuilder.Build(Read(channel, target, paths, RealServerDiagnosis.ReadsFor(withListeners), cancellationToken), target.HostName, paths, withListeners);
}

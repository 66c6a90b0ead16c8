using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Diagnostics;

/// <summary>
/// The one place that turns what a host's reads (<see cref="RealServerReads"/>) returned into the
/// <see cref="RealServerSnapshot"/> the checks see, whether the local probe or the agentless script read them.
/// </summary>
public static class RealServerSnapshotBuilder
{
    public static RealServerSnapshot Build(RemoteSnapshot reads, string computerName, DiagnosisPaths paths, bool withListeners)
    {
        // Without root the rule sets cannot be read: what a read printed then is an error, not the state.
        var visible = reads.IsRoot ? reads : WithoutRootReads(reads);
        var basic = visible.ToHostState();
        var nft = Output(visible, "nft") is { } n ? Nft(n) : null;
        var arptables = reads.Programs.Contains("arptables");
        return new RealServerSnapshot
        {
            ComputerName = computerName,
            State = new HostState(basic.Interfaces, basic.DefaultRoutes, basic.ArpRules, basic.Dialect, basic.Sysctls, nft) { Gateways = basic.Gateways },
            ArptablesInstalled = arptables,
            NftInstalled = reads.Programs.Contains(NftArpTable.ListCommand.Program),
            ArpRulesUnknownReason = arptables && !reads.IsRoot ? "reading them needs root" : null,
            Redirects = Output(visible, "redirects") is { } r ? RedirectSyntax.Parse(Checked(r).StandardOutput) : null,
            Sysctls = InterfaceSysctls.Parse(reads.Reads.TryGetValue(RealServerReads.SysctlRead, out var s) ? s.StandardOutput : string.Empty),
            Listeners = withListeners && Output(visible, "sockets") is { } ss ? ListeningSocket.ParseSs(Checked(ss).StandardOutput) : null,
            Persisted = Persisted(reads, paths) with
            {
                NativeVips =
                [
                    .. Persistence.Native.NativePersistence.ReadPersisted(paths.NetworkConfigRoot, basic.Interfaces.ToDictionary(i => i.Name, i => i.MacAddress)),
                    .. paths.NmProfileRecordPath is null ? [] : Persistence.Native.NmProfileRecord.PersistedVips(paths.NmProfileRecordPath),
                ],
            },
        };
    }

    private static PersistedConfig Persisted(RemoteSnapshot reads, DiagnosisPaths paths)
    {
        var rc = paths.RcLocalOn(reads);
        var saved = paths.SavedRules;
        // Like rc-local.service: rc.local runs at boot only when it is executable.
        var executable = reads.FileModes.TryGetValue(rc, out var mode)
            && mode.Length > 0 && mode.All(c => c is >= '0' and <= '7')
            && (Convert.ToInt32(mode, 8) & Convert.ToInt32("111", 8)) != 0;
        var sysctlFiles = PersistedConfig.OrderSysctlFiles(reads.Files.Keys.Concat(["/etc/sysctl.conf"]));
        var boot = PersistedConfig.ParseSysctlFiles(sysctlFiles.Select(f => reads.Files.GetValueOrDefault(f)));
        var persisted = PersistedConfig.Parse(rc, reads.Files.GetValueOrDefault(rc), executable, saved, reads.Files.GetValueOrDefault(saved), boot) with
        {
            Unreadable = reads.UnreadableFiles.Where(f => f == rc || f == saved).ToList(),
        };
        persisted = PersistedConfig.WithSystemdUnit(persisted, paths.SystemdUnit, reads.Files.GetValueOrDefault(paths.SystemdUnit));
        var configs = paths.NftConfigs
            .Where(reads.Exists)
            .Select(c => (c, reads.Files.GetValueOrDefault(c)))
            .ToList();
        return persisted with
        {
            Nft = NftPersistence.Parse(paths.NftFile, reads.Files.GetValueOrDefault(paths.NftFile), configs) with { Unreadable = reads.UnreadableFiles.Contains(paths.NftFile) },
        };
    }

    private static IReadOnlyList<NftArpEntry> Nft((CommandRead Read, RemoteOutput Output) n)
    {
        var result = Result(n);
        return NftArpTable.IsMissingTable(result) ? [] : NftArpTable.Parse(Checked(n).StandardOutput);
    }

    /// <summary>A declared read's output, with its declaration; null when it did not run (program missing, or not asked).</summary>
    private static (CommandRead Read, RemoteOutput Output)? Output(RemoteSnapshot reads, string name) =>
        reads.Reads.TryGetValue(name, out var output) ? (RealServerReads.Commands.Single(c => c.Name == name), output) : null;

    private static ToolResult Result((CommandRead Read, RemoteOutput Output) r) =>
        new(r.Read.Command, r.Output.ExitCode, r.Output.StandardOutput, r.Output.StandardError, TimeSpan.Zero);

    private static ToolResult Checked((CommandRead Read, RemoteOutput Output) r)
    {
        var result = Result(r);
        return result.Succeeded ? result : throw ProcessRunnerExtensions.CommandFailed(result);
    }

    private static RemoteSnapshot WithoutRootReads(RemoteSnapshot reads) => new()
    {
        Uid = reads.Uid,
        Programs = reads.Programs,
        Reads = reads.Reads.Where(r => !RealServerReads.Commands.Any(c => c.NeedsRoot && c.Name == r.Key)).ToDictionary(),
        Files = reads.Files,
        UnreadableFiles = reads.UnreadableFiles,
        FileModes = reads.FileModes,
        Scope = reads.Scope,
        StateDirectory = reads.StateDirectory,
    };
}

using System.Collections.Concurrent;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics.Checks;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Diagnostics;

/// <summary>
/// Reads this host for a diagnosis: the commands and files <see cref="RealServerReads"/> declares, returned raw in
/// the shape the agentless script returns them in, so <see cref="RealServerSnapshotBuilder"/> builds the snapshot
/// from either alike.
/// </summary>
public sealed class RealServerProbe
{
    private readonly IProcessRunner _runner;
    private readonly Func<string, bool> _installed;

    /// <param name="installed">Whether a program is installed, for the reads that are not run without root.</param>
    public RealServerProbe(IProcessRunner runner, Func<string, bool>? installed = null)
    {
        _runner = runner;
        _installed = installed ?? (p => runner.Locate(p) is not null);
    }

    /// <summary>Where the per-interface sysctls are read; tests point it elsewhere.</summary>
    public string SysctlRoot { get; init; } = "/proc/sys/net/ipv4/conf";

    /// <summary>The reads and boot files a diagnosis needs, read here.</summary>
    public RealServerSnapshot Read(string computerName, DiagnosisPaths paths, bool withListeners, bool isRoot, CancellationToken cancellationToken = default) =>
        RealServerSnapshotBuilder.Build(ReadRaw(paths, RealServerDiagnosis.ReadsFor(withListeners), isRoot, cancellationToken), computerName, paths, withListeners);

    /// <summary>The raw outputs of the declared reads: what the agentless script would print for the same request.</summary>
    public RemoteSnapshot ReadRaw(DiagnosisPaths paths, HostReads reads, bool isRoot, CancellationToken cancellationToken = default)
    {
        var programs = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var outputs = new ConcurrentDictionary<string, RemoteOutput>(StringComparer.Ordinal);
        // The reads are independent: side by side, a diagnosis costs its slowest read, not their sum.
        Parallel.ForEach(RealServerReads.CommandsFor(reads), new ParallelOptions { CancellationToken = cancellationToken }, read =>
        {
            var program = read.Command.Program;
            if (read.NeedsRoot && !isRoot)
            {
                if (_installed(program))
                {
                    programs[program] = true;
                }

                return;
            }

            try
            {
                var r = _runner.Run(read.Command, cancellationToken);
                programs[program] = true;
                outputs[read.Name] = new RemoteOutput(r.ExitCode, r.StandardOutput, r.StandardError);
            }
            catch (LvsException ex) when (ex.Kind == LvsErrorKind.ProgramNotFound)
            {
                // Not installed: no rules of that kind, as the script reports a program it does not find.
            }
        });
        (_runner as LoggingProcessRunner)?.Flush();

        var files = RealServerReads.Files(paths, reads).ToList();
        if (RealServerReads.ReadsSysctls(reads))
        {
            outputs[RealServerReads.SysctlRead] = new RemoteOutput(0, InterfaceSysctls.ReadText(SysctlRoot), string.Empty);
            files.AddRange(PersistedConfig.DefaultSysctlFiles());
        }

        var texts = new Dictionary<string, string?>(StringComparer.Ordinal);
        var unreadable = new HashSet<string>(StringComparer.Ordinal);
        var modes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files.Distinct())
        {
            ReadFile(file, texts, unreadable, modes);
        }

        return new RemoteSnapshot
        {
            Uid = isRoot ? 0 : -1,
            Programs = programs.Keys.ToHashSet(StringComparer.Ordinal),
            Reads = outputs,
            Files = texts,
            UnreadableFiles = unreadable,
            FileModes = modes,
        };
    }

    /// <summary>As the agentless script reads a file: missing is null; a regular file its text and mode; anything else unreadable.</summary>
    private static void ReadFile(string path, Dictionary<string, string?> texts, HashSet<string> unreadable, Dictionary<string, string> modes)
    {
        if (!File.Exists(path) && !Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            texts[path] = null;
            return;
        }

        try
        {
            if (File.Exists(path))
            {
                texts[path] = File.ReadAllText(path);
                modes[path] = Convert.ToString((int)File.GetUnixFileMode(path), 8);
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Save-ArpSuppression writes its file 0600: without root a diagnosis must go on without it.
        }

        unreadable.Add(path);
    }
}

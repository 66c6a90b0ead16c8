using System.Globalization;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Agentless;

/// <summary>
/// Test-LvsRealServer over the agentless transport: which files and reads a diagnosis needs from a server, and
/// the <see cref="RealServerSnapshot"/> built from what the session read, so the very same checks run here.
/// Set-LvsRealServer -Persist reads and writes the same boot files.
/// </summary>
public static class AgentlessDiagnosis
{
    /// <summary>Where a host without -RcLocalPath keeps rc.local: /etc/rc.d/rc.local when /etc/rc.d exists.</summary>
    public const string RcDFolder = "/etc/rc.d";

    public const string SavedRulesDefaultPath = "/etc/sysconfig/arptables";

    /// <summary>The files a diagnosis reads: the rc.local candidates (or the given one) and the saved rules.</summary>
    public static IReadOnlyList<string> FilesToRead(string? rcLocalPath, string? savedRulesPath) =>
        rcLocalPath is null
            ? [RcDFolder, "/etc/rc.d/rc.local", "/etc/rc.local", savedRulesPath ?? SavedRulesDefaultPath]
            : [rcLocalPath, savedRulesPath ?? SavedRulesDefaultPath];

    /// <summary>
    /// The files that say which VIPs an earlier LvsDirect brought up (its rc.local block and unit); the record
    /// itself the script adds to what it reads.
    /// </summary>
    public static IReadOnlyList<string> OwnershipFiles(string? rcLocalPath) =>
        rcLocalPath is null ? [RcDFolder, "/etc/rc.d/rc.local", "/etc/rc.local", SystemdUnit.DefaultPath] : [rcLocalPath, SystemdUnit.DefaultPath];

    /// <summary>The rc.local of a host without -RcLocalPath, from the files <see cref="FilesToRead"/> asked for.</summary>
    public static string RcLocalPathOn(RemoteSnapshot remote) => RcLocal.DefaultPath(remote.Exists(RcDFolder));

    public static RealServerSnapshot ToSnapshot(RemoteSnapshot remote, string computerName, string? rcLocalPath, string? savedRulesPath, bool withListeners, string? systemdUnitPath = null)
    {
        var arptables = remote.Programs.Contains("arptables");
        var state = remote.ToHostState();
        var rc = rcLocalPath ?? RcLocalPathOn(remote);
        var saved = savedRulesPath ?? SavedRulesDefaultPath;
        var rcText = remote.Files.GetValueOrDefault(rc);
        // Like rc-local.service: rc.local runs at boot only when it is executable.
        var executable = remote.FileModes.TryGetValue(rc, out var mode)
            && mode.Length > 0 && mode.All(c => c is >= '0' and <= '7')
            && (Convert.ToInt32(mode, 8) & Convert.ToInt32("111", 8)) != 0;
        var sysctlFiles = PersistedConfig.OrderSysctlFiles(remote.Files.Keys.Concat(["/etc/sysctl.conf"]));
        var boot = PersistedConfig.ParseSysctlFiles(sysctlFiles.Select(f => remote.Files.GetValueOrDefault(f)));
        var persisted = PersistedConfig.Parse(rc, rcText, executable, saved, remote.Files.GetValueOrDefault(saved), boot) with
        {
            Unreadable = remote.UnreadableFiles.Where(f => f == rc || f == saved).ToList(),
        };
        var unit = systemdUnitPath ?? SystemdUnit.DefaultPath;
        persisted = PersistedConfig.WithSystemdUnit(persisted, unit, remote.Files.GetValueOrDefault(unit));

        return new RealServerSnapshot
        {
            ComputerName = computerName,
            State = state,
            ArptablesInstalled = arptables,
            ArpRulesUnknownReason = arptables && !remote.IsRoot ? "reading them needs root" : null,
            Sysctls = ParseSysctls(remote.Reads.TryGetValue("sysctl", out var s) ? s.StandardOutput : string.Empty),
            Listeners = withListeners && remote.Reads.TryGetValue("sockets", out var ss) ? ListeningSocket.ParseSs(ss.StandardOutput) : null,
            Persisted = persisted,
        };
    }

    /// <summary>The script's "conf key value" lines.</summary>
    public static InterfaceSysctls ParseSysctls(string text)
    {
        var values = new Dictionary<(string Conf, string Key), int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                values[(parts[0], parts[1])] = v;
            }
        }

        return new InterfaceSysctls(values);
    }
}

using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics.Checks;
using LvsDirect.Core.Host;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Diagnostics;

/// <summary>A program a diagnosis runs on the host, and the name its output is filed under on every transport.</summary>
public sealed record CommandRead(string Name, ToolCommand Command, HostReads For, bool NeedsRoot);

/// <summary>Where the host keeps the boot files a diagnosis reads; null: the default place.</summary>
public sealed record DiagnosisPaths
{
    public string? RcLocalPath { get; init; }

    public string? SavedRulesPath { get; init; }

    public string? SystemdUnitPath { get; init; }

    public string? NftFilePath { get; init; }

    public IReadOnlyList<string>? NftConfigPaths { get; init; }

    /// <summary>
    /// The root of the network stacks' configuration Save-LvsVip wrote (its -Path), read on this host only; null:
    /// not read (over ssh, where native targets are not offered, and in an ip netns namespace).
    /// </summary>
    public string? NetworkConfigRoot { get; init; }

    /// <summary>LvsDirect's record of the addresses it added to NetworkManager profiles (this host, root only); null: not read.</summary>
    public string? NmProfileRecordPath { get; init; }

    public string SavedRules => SavedRulesPath ?? SavedArpRulesTarget.DefaultPath;

    public string SystemdUnit => SystemdUnitPath ?? Persistence.SystemdUnit.DefaultPath;

    public string NftFile => NftFilePath ?? NftConf.DefaultPath;

    public IReadOnlyList<string> NftConfigs => NftConfigPaths ?? NftConf.HostConfigs;

    /// <summary>The rc.local of the host the reads came from: the given one, else where that host keeps it.</summary>
    public string RcLocalOn(RemoteSnapshot reads) => RcLocalPath ?? AgentlessDiagnosis.RcLocalPathOn(reads);
}

/// <summary>
/// Everything a diagnosis reads from a host, declared once: the local probe runs these commands and reads these
/// files itself, the agentless script runs and reads the very same on the server, and one builder
/// (<see cref="RealServerSnapshotBuilder"/>) turns what came back into the snapshot the checks see.
/// </summary>
public static class RealServerReads
{
    /// <summary>The name the sysctl values are filed under: "conf key value" lines, as the script prints them.</summary>
    public const string SysctlRead = "sysctl";

    /// <summary>
    /// The commands. The agentless script's state dump runs the first three in every session (the same commands
    /// as <see cref="HostInspector"/>'s, under the same names); the others it runs because the diagnosis asks.
    /// </summary>
    public static IReadOnlyList<CommandRead> Commands { get; } =
    [
        new("ip", HostInspector.ReadAddressesCommand, HostReads.Addresses, NeedsRoot: false),
        new("arplist", HostInspector.ListArpCommand, HostReads.ArpRules, NeedsRoot: true),
        // Only the rules need the flavor, so without root it is not asked either.
        new("arpversion", HostInspector.ArptablesVersionCommand, HostReads.ArpRules, NeedsRoot: true),
        new("nft", NftArpTable.ListCommand, HostReads.NftArp, NeedsRoot: true),
        new("redirects", RedirectSyntax.ListCommand, HostReads.Redirects, NeedsRoot: true),
        new("sockets", ListeningSocket.ListCommand, HostReads.Listeners, NeedsRoot: false),
    ];

    /// <summary>The reads the agentless script makes in every session, whatever it is asked.</summary>
    public static IReadOnlySet<string> StateDumpReads { get; } = new HashSet<string>(StringComparer.Ordinal) { "ip", "arplist", "arpversion" };

    public static IReadOnlyList<CommandRead> CommandsFor(HostReads reads) => Commands.Where(c => (c.For & reads) != 0).ToList();

    /// <summary>The sysctl values live and the sysctl files read at boot, both from the same read.</summary>
    public static bool ReadsSysctls(HostReads reads) => (reads & (HostReads.Sysctls | HostReads.BootFiles)) != 0;

    /// <summary>The boot files, at <paramref name="paths"/> or their default places; the sysctl files come with the sysctl read.</summary>
    public static IReadOnlyList<string> Files(DiagnosisPaths paths, HostReads reads) =>
        (reads & HostReads.BootFiles) == 0
            ? []
            : [.. AgentlessDiagnosis.FilesToRead(paths.RcLocalPath, paths.SavedRulesPath), paths.SystemdUnit, paths.NftFile, .. paths.NftConfigs];
}

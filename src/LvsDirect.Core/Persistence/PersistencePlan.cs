using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Persistence;

/// <summary>What is persisted: the host's state after the change and the boot commands made from it.</summary>
public sealed class PersistenceInput
{
    public required HostState State { get; init; }

    public required BootCommands Boot { get; init; }

    /// <summary>
    /// The input for the VIPs LvsDirect manages (<paramref name="managed"/>, as Get-LvsVip lists them) and the
    /// REDIRECT rules. The sysctl method's settings come first when a VIP uses it. The nftables method's VIPs
    /// wait for their table, loaded from <paramref name="nftFile"/> (the file Save-ArpSuppression -Method
    /// Nftables keeps); without that file (null) only their addresses are recreated, and nftables.service
    /// alone loads the table.
    /// </summary>
    public static PersistenceInput For(HostState state, IEnumerable<LvsVip> managed, IReadOnlyList<RedirectRule> redirects, string? nftFile = null)
    {
        var vips = managed.ToList();
        var sysctls = vips.Any(v => v.Method == ArpMethod.Sysctl)
            ? ArpSysctls.Persisted(state.Sysctls, state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all")
            : null;
        var boot = BootCommands.Create(
            state.Dialect ?? new ArptablesDialect(ArptablesFlavor.Nft),
            vips.Select(v => new RcVip(v.Address, v.PrefixLength, v.InterfaceName, v.Label, v.Broadcast, v.Method == ArpMethod.Nftables ? null : v.RealIP)).ToList(),
            sysctls,
            redirects,
            nftFile,
            vips.Where(v => v.Method == ArpMethod.Nftables).Select(v => v.Address).ToHashSet());
        return new PersistenceInput { State = state, Boot = boot };
    }
}

/// <summary>
/// One file a target keeps (with the services that load it): the operations that bring it up to date, none when
/// it already is. <see cref="Writes"/> change files; <see cref="Services"/> enable the services that read them
/// at boot, which is idempotent, so they run on every call and do not count as a change.
/// </summary>
public sealed record PersistenceItem
{
    public required string Path { get; init; }

    /// <summary>What is done, with the content, for -WhatIf and -Confirm.</summary>
    public required string Action { get; init; }

    public IReadOnlyList<RemoteOperation> Writes { get; init; } = [];

    public IReadOnlyList<RemoteOperation> Services { get; init; } = [];

    /// <summary>The boot file's lines (the rc.local block or the unit); empty for the other files.</summary>
    public IReadOnlyList<string> Lines { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>True when the file does not exist and will be created.</summary>
    public bool Created { get; init; }

    /// <summary>True when this host has nowhere this target's file is loaded from: nothing is planned.</summary>
    public bool Skipped { get; init; }

    /// <summary>How many rules or settings the file holds.</summary>
    public int Count { get; init; }

    /// <summary>The service that loads the file at boot, when there is one.</summary>
    public string? Service { get; init; }

    public bool Changed => Writes.Count > 0;
}

/// <summary>
/// One way of keeping the configuration across a reboot (rc.local, the unit, saved rules, sysctl.d, nftables).
/// Other targets (a network stack's own files) plug in beside these.
/// </summary>
public interface IPersistenceTarget
{
    /// <summary>The files (and folders) the plan reads on the host; a remote host reads them with its state.</summary>
    IEnumerable<string> FilesToRead { get; }

    PersistenceItem Plan(PersistenceInput input, IPersistenceHost host);
}

/// <summary>The files to write and the services to enable, target by target, from one state.</summary>
public sealed class PersistencePlan
{
    private PersistencePlan(IReadOnlyList<PersistenceItem> items) => Items = items;

    public IReadOnlyList<PersistenceItem> Items { get; }

    public bool Changed => Items.Any(i => i.Changed);

    /// <summary>Every operation in order: each item's writes, then its services.</summary>
    public IReadOnlyList<RemoteOperation> Operations => Items.SelectMany(i => i.Writes.Concat(i.Services)).ToList();

    public static PersistencePlan Create(PersistenceInput input, IPersistenceHost host, IEnumerable<IPersistenceTarget> targets) =>
        new(targets.Select(t => t.Plan(input, host)).ToList());

    /// <summary>The files every target needs read, without duplicates.</summary>
    public static IReadOnlyList<string> FilesToRead(IEnumerable<IPersistenceTarget> targets) => targets.SelectMany(t => t.FilesToRead).Distinct().ToList();

    /// <summary>Where systemd finds unit files: a service is there when its unit is in one of them.</summary>
    internal static IEnumerable<string> UnitFiles(string unit) =>
        new[] { "/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system" }.Select(f => System.IO.Path.Combine(f, unit));
}

/// <summary>The rc.local block (the seed's way): our block right after the shebang, every other line kept.</summary>
public sealed class RcLocalTarget(string path) : IPersistenceTarget
{
    public string Path { get; } = path;

    public IEnumerable<string> FilesToRead => [Path];

    public PersistenceItem Plan(PersistenceInput input, IPersistenceHost host)
    {
        var block = RcLocal.RenderBlock(input.Boot);
        var existing = host.ReadText(Path);
        var content = RcLocal.Merge(existing, block);
        var warnings = block.Count > 0 && RcLocal.WhyBlockCannotRun(content, executable: true) is { } problem
            ? [$"{Path}: the LvsDirect block will not run at boot: {problem}."]
            : Array.Empty<string>();
        // With nothing to recreate and no file, there is nothing to write (not even an empty rc.local).
        var write = (existing is not null || block.Count > 0) && (content != existing || !host.IsExecutable(Path));
        return new PersistenceItem
        {
            Path = Path,
            Action = $"Write the LvsDirect block ({input.Boot.Addresses.Count()} VIP(s)) to {Path}:\n{string.Join('\n', block)}",
            Writes = write ? [new RemoteFileWrite(Path, content, "0755") { EnsureExecutable = true }] : [],
            Lines = block,
            Warnings = warnings,
            Created = existing is null && write,
            Count = input.Boot.ArpRules.Count(),
        };
    }
}

/// <summary>
/// LvsDirect's oneshot unit. At the default path it is also enabled (after a daemon-reload when it changed), or
/// disabled before it is removed; a file of that name LvsDirect did not write is never touched.
/// </summary>
public sealed class SystemdUnitTarget(string path, bool manageService) : IPersistenceTarget
{
    public string Path { get; } = path;

    public IEnumerable<string> FilesToRead => [Path];

    public PersistenceItem Plan(PersistenceInput input, IPersistenceHost host)
    {
        var existing = host.ReadText(Path);
        if (existing is not null && !SystemdUnit.IsOurs(existing))
        {
            throw new LvsException(LvsErrorKind.FileError, $"{Path} exists and was not written by LvsDirect; give another -Path.", Path);
        }

        var lines = SystemdUnit.Render(input.Boot, host.Locate);
        var systemctl = manageService && host.HasProgram("systemctl");
        var warnings = manageService && !systemctl
            ? [$"This host has no systemctl: the unit is written, but nothing runs it at boot. Use Export-RcLocal without -Target instead."]
            : Array.Empty<string>();
        if (lines.Count == 0)
        {
            return new PersistenceItem
            {
                Path = Path,
                Action = $"Remove {Path}: there is nothing to recreate at boot",
                Writes = existing is null ? [] : [.. Systemctl(systemctl, "disable", SystemdUnit.Name), new RemoteFileRemove(Path)],
            };
        }

        var content = SystemdUnit.Content(lines);
        var changed = content != existing;
        return new PersistenceItem
        {
            Path = Path,
            Action = $"Write the LvsDirect unit ({input.Boot.Addresses.Count()} VIP(s)) to {Path}:\n{string.Join('\n', lines)}",
            Writes = changed ? [new RemoteFileWrite(Path, content, "0644"), .. Systemctl(systemctl, "daemon-reload")] : [],
            Services = Systemctl(systemctl, "enable", SystemdUnit.Name),
            Lines = lines,
            Warnings = warnings,
            Created = existing is null,
            Count = input.Boot.ArpRules.Count(),
            Service = systemctl ? SystemdUnit.Name : null,
        };
    }

    private static RemoteOperation[] Systemctl(bool present, params string[] args) =>
        present ? [new RemoteCommandOperation(new ToolCommand("systemctl", args))] : [];
}

/// <summary>
/// The live ARP rules in arptables-save format where the arptables (or arptables_jf) service loads them, and
/// that service enabled, like `service arptables_jf save` + `chkconfig … on`. Without a service and without the
/// folder, nothing would load the file at boot: nothing is planned, unless the path was given.
/// </summary>
public sealed class SavedArpRulesTarget(string? path) : IPersistenceTarget
{
    public const string DefaultPath = "/etc/sysconfig/arptables";

    private static readonly string[] InitFolders = ["/etc/rc.d/init.d", "/etc/init.d"];
    private static readonly string[] Services = ["arptables", "arptables_jf"];

    public string Path { get; } = path ?? DefaultPath;

    public IEnumerable<string> FilesToRead =>
        [Path, System.IO.Path.GetDirectoryName(Path)!, .. Services.SelectMany(UnitFiles), .. Services.SelectMany(InitScripts)];

    public PersistenceItem Plan(PersistenceInput input, IPersistenceHost host)
    {
        var service = path is null ? FindService(host) : null;
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        if (path is null && service is null && !host.Exists(folder))
        {
            return new PersistenceItem
            {
                Path = Path,
                Action = "Nothing to save",
                Skipped = true,
                Warnings = [$"This host has no arptables service and no {folder} folder, so nothing would load saved rules at boot. Use Export-RcLocal to recreate the rules at boot, or give -Path to save them anyway."],
            };
        }

        var rules = input.State.ArpRules ?? throw ToolLocator.NotFound("arptables");
        var text = rules.Render(input.State.RequireDialect(), [], _ => false);
        var existing = host.ReadText(Path);
        var warnings = new List<string>();
        if (service is { Systemd: true } s && !UnitFiles(s.Name).Select(host.ReadText).Any(t => t?.Contains(Path, StringComparison.Ordinal) == true))
        {
            warnings.Add($"The {s.Name} service may read its rules from somewhere other than {Path}; check its unit file.");
        }
        else if (service is null && path is null)
        {
            warnings.Add($"This host has no arptables service: the rules are saved to {Path}, but nothing loads them at boot. Use Export-RcLocal to recreate them at boot.");
        }

        return new PersistenceItem
        {
            Path = Path,
            Action = $"Write {rules.Rules.Count} arptables rule(s) in arptables-save format to {Path}",
            Writes = text != existing ? [new RemoteFileWrite(Path, text, "0600")] : [],
            Services = service is null ? [] : [new RemoteCommandOperation(service.Value.Command)],
            Warnings = warnings,
            Created = existing is null,
            Count = rules.Rules.Count,
            Service = service?.Name,
        };
    }

    private static IEnumerable<string> UnitFiles(string name) => PersistencePlan.UnitFiles(name + ".service");

    private static IEnumerable<string> InitScripts(string name) => InitFolders.Select(f => System.IO.Path.Combine(f, name));

    private static (string Name, bool Systemd, ToolCommand Command)? FindService(IPersistenceHost host)
    {
        foreach (var name in Services)
        {
            if (UnitFiles(name).Any(host.Exists) && host.HasProgram("systemctl"))
            {
                return (name, true, ToolCommand.Create("systemctl", "enable", name + ".service"));
            }

            if (InitScripts(name).Any(host.Exists) && host.HasProgram("chkconfig"))
            {
                return (name, false, ToolCommand.Create("chkconfig", "--level", "2345", name, "on"));
            }
        }

        return null;
    }
}

/// <summary>
/// The sysctl method's settings in a file of LvsDirect's own in /etc/sysctl.d, as live (never lower than the
/// method needs); with no VIP on lo left, the file is removed if LvsDirect wrote it, so a reboot does not bring
/// back settings nobody needs. With <paramref name="cleanupOnly"/> (another method was chosen) the file is only
/// removed, never written: a method switch must not leave it to raise the sysctls at the next boot.
/// </summary>
public sealed class SysctlConfTarget(string? path, bool cleanupOnly = false) : IPersistenceTarget
{
    public string Path { get; } = path ?? SysctlConf.DefaultPath;

    public IEnumerable<string> FilesToRead => [Path];

    public PersistenceItem Plan(PersistenceInput input, IPersistenceHost host)
    {
        var state = input.State;
        var existing = host.ReadText(Path);
        var ours = SysctlConf.IsOurs(existing);
        if (state.SysctlSuppression == SuppressionState.None || !state.LoopbackVipAddresses.Any())
        {
            return new PersistenceItem
            {
                Path = Path,
                Action = $"Remove {Path}: no VIP on lo needs the ARP sysctls any more",
                Writes = ours ? [new RemoteFileRemove(Path)] : [],
                Warnings = existing is not null && !ours && !cleanupOnly ? [$"{Path} was not written by LvsDirect; it is left as it is."] : [],
            };
        }

        if (cleanupOnly)
        {
            return new PersistenceItem { Path = Path, Action = $"Keep {Path}: VIPs on lo still use the ARP sysctls", Skipped = true };
        }

        if (existing is not null && !ours)
        {
            throw new LvsException(LvsErrorKind.FileError,
                $"{Path} exists and was not written by LvsDirect; give another -Path (a file of its own in /etc/sysctl.d).", Path);
        }

        var settings = ArpSysctls.Persisted(state.Sysctls, state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all");
        var text = SysctlConf.Render(settings);
        return new PersistenceItem
        {
            Path = Path,
            Action = $"Write {settings.Count} ARP sysctl(s) to {Path}:\n{text}",
            Writes = text != existing ? [new RemoteFileWrite(Path, text, "0644")] : [],
            Created = existing is null,
            Count = settings.Count,
        };
    }
}

/// <summary>
/// The nftables method's table in a file of LvsDirect's own, included once from the host's nftables
/// configuration (everything else in it kept), which nftables.service loads before the network. The file
/// always exists once included, even without VIPs (then it only removes the table), because a missing include
/// would make the whole configuration fail to load.
/// </summary>
public sealed class NftTarget(string? path, string? configPath, bool manageService) : IPersistenceTarget
{
    private const string UnitFile = "nftables.service";

    public string Path { get; } = path ?? NftConf.DefaultPath;

    public IEnumerable<string> FilesToRead =>
        [Path, .. configPath is null ? NftConf.HostConfigs : [configPath], .. PersistencePlan.UnitFiles(UnitFile)];

    public PersistenceItem Plan(PersistenceInput input, IPersistenceHost host)
    {
        var config = configPath ?? NftConf.HostConfigs.FirstOrDefault(host.Exists)
            ?? throw new LvsException(LvsErrorKind.FileError,
                $"This host has no nftables configuration ({string.Join(" or ", NftConf.HostConfigs)}) to include {Path} from; install nftables or give -ConfigPath.", Path);
        var entries = input.State.NftArp ?? throw ToolLocator.NotFound("nft");
        var text = NftConf.Render(entries);
        var writes = new List<RemoteOperation>();
        if (text != host.ReadText(Path))
        {
            writes.Add(new RemoteFileWrite(Path, text, "0644"));
        }

        var existingConfig = host.ReadText(config);
        var merged = NftConf.WithInclude(existingConfig, Path);
        if (merged != existingConfig)
        {
            writes.Add(new RemoteFileWrite(config, merged, "0755"));
        }

        var enable = manageService && PersistencePlan.UnitFiles(UnitFile).Any(host.Exists) && host.HasProgram("systemctl");
        return new PersistenceItem
        {
            Path = Path,
            Action = $"Write the nftables table arp lvsdirect ({entries.Count} VIP(s)) to {Path}, included from {config}:\n{text}",
            Writes = writes,
            Services = enable ? [new RemoteCommandOperation(ToolCommand.Create("systemctl", "enable", UnitFile))] : [],
            Created = host.ReadText(Path) is null,
            Count = entries.Sum(e => (e.Drop ? 1 : 0) + (e.MangleTo is null ? 0 : 1)),
            Service = enable ? "nftables" : null,
        };
    }
}

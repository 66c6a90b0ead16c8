using System.Management.Automation;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Persists the live ARP rules the way the host expects: arptables-save format in /etc/sysconfig/arptables
/// and the arptables (or arptables_jf) service enabled, like `service arptables_jf save` + `chkconfig … on`.
/// With -Method Sysctl, the ARP sysctls of the VIPs on lo go to a file of LvsDirect's own in /etc/sysctl.d.
/// </summary>
[Cmdlet(VerbsData.Save, "ArpSuppression", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ArpSuppressionSaveResult))]
public sealed class SaveArpSuppressionCommand : LvsCmdlet
{
    public const string DefaultPath = "/etc/sysconfig/arptables";

    private static readonly string[] UnitFolders = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];
    private static readonly string[] InitFolders = ["/etc/rc.d/init.d", "/etc/init.d"];

    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>
    /// Arptables (the rules), Sysctl (arp_ignore/arp_announce, to /etc/sysctl.d/90-lvsdirect-arp.conf) or
    /// Nftables (the table arp lvsdirect, to /etc/lvsdirect/arp.nft, included from the host's nftables config).
    /// </summary>
    [Parameter]
    public ArpMethod Method { get; set; } = ArpMethod.Arptables;

    /// <summary>For -Method Nftables: the host's nftables configuration that gets the include line.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        if (Method == ArpMethod.Sysctl)
        {
            WriteObject(SaveSysctls());
            return;
        }

        if (Method == ArpMethod.Nftables)
        {
            WriteObject(SaveNftables());
            return;
        }

        var explicitPath = Path is not null;
        var path = explicitPath ? GetUnresolvedProviderPathFromPSPath(Path) : DefaultPath;
        var service = explicitPath ? null : FindService();
        var folder = System.IO.Path.GetDirectoryName(path)!;
        if (!explicitPath && service is null && !Directory.Exists(folder))
        {
            WriteWarning($"This host has no arptables service and no {folder} folder, so nothing would load saved rules at boot. Use Export-RcLocal to recreate the rules at boot, or give -Path to save them anyway.");
            return;
        }

        var result = WithHostLock(() =>
        {
            var state = ReadState(includeArpRules: true);
            var dialect = state.RequireDialect();
            var text = state.ArpRules!.Render(dialect, [], _ => false);
            var changed = false;
            if (ShouldProcess($"Write {state.ArpRules.Rules.Count} arptables rule(s) in arptables-save format to {path}", $"Write the ARP rules to {path}?", "Save ARP rules"))
            {
                Directory.CreateDirectory(folder);
                changed = AtomicFile.WriteAllText(path, text, (UnixFileMode)Convert.ToInt32("600", 8));
                WriteVerbose(changed ? $"Wrote {path}" : $"{path} already holds these rules");
            }

            var enabled = false;
            if (service is not null)
            {
                if (service.Value.Systemd && !ServiceReadsPath(service.Value.Name, path))
                {
                    WriteWarning($"The {service.Value.Name} service may read its rules from somewhere other than {path}; check its unit file.");
                }

                var command = service.Value.Command;
                if (ShouldProcess($"Enable the {service.Value.Name} service at boot: {command.ToDisplayString()}", $"Enable {service.Value.Name}?", "Enable service"))
                {
                    Runner.RunChecked(command, CancellationToken.None);
                    enabled = true;
                }
            }
            else if (!explicitPath)
            {
                WriteWarning($"This host has no arptables service: the rules are saved to {path}, but nothing loads them at boot. Use Export-RcLocal to recreate them at boot.");
            }

            return new ArpSuppressionSaveResult
            {
                Path = path,
                RuleCount = state.ArpRules.Rules.Count,
                Service = service?.Name,
                ServiceEnabled = enabled,
                Changed = changed,
            };
        });

        WriteObject(result);
    });

    private static (string Name, bool Systemd, ToolCommand Command)? FindService()
    {
        foreach (var name in new[] { "arptables", "arptables_jf" })
        {
            if (UnitFolders.Any(f => File.Exists(System.IO.Path.Combine(f, name + ".service"))) && ToolLocator.TryResolve("systemctl") is not null)
            {
                return (name, true, ToolCommand.Create("systemctl", "enable", name + ".service"));
            }

            if (InitFolders.Any(f => File.Exists(System.IO.Path.Combine(f, name))) && ToolLocator.TryResolve("chkconfig") is not null)
            {
                return (name, false, ToolCommand.Create("chkconfig", "--level", "2345", name, "on"));
            }
        }

        return null;
    }

    private static bool ServiceReadsPath(string name, string path) =>
        UnitFolders.Select(f => System.IO.Path.Combine(f, name + ".service"))
            .Where(File.Exists)
            .Any(f => File.ReadAllText(f).Contains(path, StringComparison.Ordinal));

    /// <summary>
    /// Writes the ARP sysctls the VIPs on lo need, as live (never lower than the method needs); with no such
    /// VIP left, removes the file if LvsDirect wrote it, so a reboot does not bring back settings nobody needs.
    /// </summary>
    private ArpSuppressionSaveResult SaveSysctls()
    {
        var path = Path is null ? SysctlConf.DefaultPath : GetUnresolvedProviderPathFromPSPath(Path);
        return WithHostLock(() =>
        {
            var state = ReadState(includeArpRules: false, includeSysctls: true);
            var hasVips = state.SysctlSuppression != SuppressionState.None && state.LoopbackVipAddresses.Any();
            var existing = AtomicFile.ReadAllTextOrNull(path);
            var changed = false;
            if (!hasVips)
            {
                if (SysctlConf.IsOurs(existing) && ShouldProcess($"Remove {path}: no VIP on lo needs the ARP sysctls any more", $"Remove {path}?", "Save ARP sysctls"))
                {
                    try
                    {
                        File.Delete(path);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{path}': {ex.Message}", path, ex);
                    }

                    changed = true;
                }
                else if (existing is not null && !SysctlConf.IsOurs(existing))
                {
                    WriteWarning($"{path} was not written by LvsDirect; it is left as it is.");
                }

                WriteVerbose("No VIP on lo is kept out of ARP by the sysctls: nothing to save.");
                return new ArpSuppressionSaveResult { Path = path, RuleCount = 0, Changed = changed };
            }

            if (existing is not null && !SysctlConf.IsOurs(existing))
            {
                throw new LvsException(LvsErrorKind.FileError,
                    $"{path} exists and was not written by LvsDirect; give another -Path (a file of its own in /etc/sysctl.d).", path);
            }

            var settings = ArpSysctls.Persisted(state.Sysctls, state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all");
            var text = SysctlConf.Render(settings);
            if (ShouldProcess($"Write {settings.Count} ARP sysctl(s) to {path}:\n{text}", $"Write the ARP sysctls to {path}?", "Save ARP sysctls"))
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                changed = AtomicFile.WriteAllText(path, text, (UnixFileMode)Convert.ToInt32("644", 8));
                WriteVerbose(changed ? $"Wrote {path}" : $"{path} already holds these settings");
            }

            return new ArpSuppressionSaveResult { Path = path, RuleCount = settings.Count, Changed = changed };
        });
    }

    /// <summary>
    /// Writes the table to a file of LvsDirect's own and makes the host's nftables configuration include it
    /// (one line, added once, everything else kept), so nftables.service loads it at boot before the network.
    /// The file always exists once included, even without VIPs (then it only removes the table), because a
    /// missing include would make the whole configuration fail to load.
    /// </summary>
    private ArpSuppressionSaveResult SaveNftables()
    {
        var path = Path is null ? NftConf.DefaultPath : GetUnresolvedProviderPathFromPSPath(Path);
        var config = ConfigPath is not null ? GetUnresolvedProviderPathFromPSPath(ConfigPath) : NftConf.FindHostConfig()
            ?? throw new LvsException(LvsErrorKind.FileError,
                $"This host has no nftables configuration ({string.Join(" or ", NftConf.HostConfigs)}) to include {path} from; install nftables or give -ConfigPath.", path);
        return WithHostLock(() =>
        {
            var state = new Core.Host.HostInspector(Runner).Read(includeArpRules: false, CancellationToken, includeNft: true);
            var text = NftConf.Render(state.NftArp!);
            var changed = false;
            if (ShouldProcess($"Write the nftables table arp lvsdirect ({state.NftArp!.Count} VIP(s)) to {path}:\n{text}", $"Write the nftables ARP table to {path}?", "Save ARP table"))
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                changed = AtomicFile.WriteAllText(path, text, (UnixFileMode)Convert.ToInt32("644", 8));
            }

            var existing = AtomicFile.ReadAllTextOrNull(config);
            var merged = NftConf.WithInclude(existing, path);
            if (merged != existing && ShouldProcess($"Add {NftConf.IncludeLine(path)} to {config}", $"Include {path} from {config}?", "Save ARP table"))
            {
                AtomicFile.WriteAllText(config, merged, (UnixFileMode)Convert.ToInt32("755", 8));
                changed = true;
            }

            var enabled = false;
            if (Path is null && ConfigPath is null && UnitFolders.Any(f => File.Exists(System.IO.Path.Combine(f, "nftables.service"))) && ToolLocator.TryResolve("systemctl") is not null)
            {
                var command = ToolCommand.Create("systemctl", "enable", "nftables.service");
                if (ShouldProcess($"Enable the nftables service at boot: {command.ToDisplayString()}", "Enable nftables?", "Enable service"))
                {
                    Runner.RunChecked(command, CancellationToken.None);
                    enabled = true;
                }
            }

            return new ArpSuppressionSaveResult
            {
                Path = path,
                RuleCount = state.NftArp.Sum(e => (e.Drop ? 1 : 0) + (e.MangleTo is null ? 0 : 1)),
                Service = enabled ? "nftables" : null,
                ServiceEnabled = enabled,
                Changed = changed,
            };
        });
    }
}

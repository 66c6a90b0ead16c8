using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Persists the live ARP rules the way the host expects: arptables-save format in /etc/sysconfig/arptables
/// and the arptables (or arptables_jf) service enabled, like `service arptables_jf save` + `chkconfig … on`.
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

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
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
}

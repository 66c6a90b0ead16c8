using System.Management.Automation;
using System.Management.Automation.Runspaces;
using LvsDirect.Core.Model;
using LvsDirect.Remoting;

namespace LvsDirect.Commands;

/// <summary>
/// Copies this build of LvsDirect to hosts over PowerShell remoting, into the folder pwsh itself uses there for
/// CurrentUser modules ($XDG_DATA_HOME/powershell/Modules, else ~/.local/share/powershell/Modules, created when
/// missing), as LvsDirect/&lt;version&gt;, so that `Invoke-Command -HostName … { New-LvsVip … }`
/// finds it. A host that already has this version is left alone unless -Force. Set-LvsRealServer does the same
/// by itself when a host lacks the module.
/// </summary>
[Cmdlet(VerbsLifecycle.Install, "LvsDirect", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = HostSet)]
[OutputType(typeof(ModuleInstallResult))]
public sealed class InstallLvsDirectCommand : LvsRemoteCmdlet
{
    private const string HostSet = "HostName";
    private const string SessionSet = "Session";

    private static readonly ConnectionSets Sets = new([HostSet], [HostSet, SessionSet], HasTransport: false);

    private readonly List<RemoteTarget> _targets = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SessionSet)]
    [ValidateNotNullOrEmpty]
    public PSSession[] Session { get; set; } = [];

    /// <summary>Copy even when the host already has this version.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private protected override ConnectionSets ConnectionSets => Sets;

    protected override void ProcessRecord() => Guard(() =>
        _targets.AddRange(ParameterSetName == SessionSet
            ? Session.Select(RemoteTarget.ForSession)
            : HostName.Select(Connection.RemoteTarget)));

    protected override void EndProcessing()
    {
        var version = ModulePayload.Current.Version;
        var work = _targets.DistinctBy(t => t.Session?.InstanceId.ToString() ?? t.ComputerName.ToLowerInvariant())
            .Where(t => ShouldProcess(t.ComputerName, $"Install LvsDirect {version} into the remote user's module path{(Force.IsPresent ? " (replacing any copy)" : " unless this version is there")}"))
            .Select(t => new RemoteWork(t, null))
            .ToList();
        ForEachRemoteHost(ProgressActivityId + 3, Connection.Runner(Force.IsPresent), work, r =>
        {
            var failure = HostFailure.FromResult(r);
            if (failure is not null)
            {
                WriteHostFailure(failure, r.Failure);
            }

            WriteObject(new ModuleInstallResult
            {
                ComputerName = r.ComputerName,
                Status = failure is not null ? ModuleInstallStatus.Failed : r.ModuleInstalled ? ModuleInstallStatus.Installed : ModuleInstallStatus.AlreadyPresent,
                Version = version,
                Path = r.ModuleBase,
                Duration = r.Duration,
                Error = failure?.Message,
                ErrorId = failure?.ErrorId,
            });
        });
    }
}

using System.Management.Automation;
using System.Management.Automation.Runspaces;
using LvsDirect.Core.Model;
using LvsDirect.Remoting;

namespace LvsDirect.Commands;

/// <summary>
/// Copies this build of LvsDirect to hosts over PowerShell remoting, into the remote user's module path
/// (~/.local/share/powershell/Modules/LvsDirect/&lt;version&gt;), so that `Invoke-Command -HostName … { New-LvsVip … }`
/// finds it. A host that already has this version is left alone unless -Force. Set-LvsRealServer does the same
/// by itself when a host lacks the module.
/// </summary>
[Cmdlet(VerbsLifecycle.Install, "LvsDirect", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = HostSet)]
[OutputType(typeof(ModuleInstallResult))]
public sealed class InstallLvsDirectCommand : LvsCmdlet
{
    private const string HostSet = "HostName";
    private const string SessionSet = "Session";

    private readonly List<RemoteTarget> _targets = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = SessionSet)]
    [ValidateNotNullOrEmpty]
    public PSSession[] Session { get; set; } = [];

    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? UserName { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? KeyFilePath { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Copy even when the host already has this version.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        _targets.AddRange(ParameterSetName == SessionSet
            ? Session.Select(RemoteTarget.ForSession)
            : HostName.Select(RemoteTarget.ForHost));
    }

    protected override void EndProcessing()
    {
        var version = ModulePayload.Current.Version;
        var work = _targets.DistinctBy(t => t.Session?.InstanceId.ToString() ?? t.ComputerName.ToLowerInvariant())
            .Where(t => ShouldProcess(t.ComputerName, $"Install LvsDirect {version} into the remote user's module path{(Force.IsPresent ? " (replacing any copy)" : " unless this version is there")}"))
            .Select(t => new RemoteWork(t, null))
            .ToList();
        var runner = RemoteCmdlet.CreateRunner(UserName, KeyFilePath, Port, ThrottleLimit, Force.IsPresent);
        RemoteCmdlet.RunWithProgress(this, runner, work, "Install-LvsDirect", r =>
        {
            var firstError = r.Errors.FirstOrDefault();
            var failed = r.Failure is not null || firstError is not null;
            var result = new ModuleInstallResult
            {
                ComputerName = r.ComputerName,
                Status = failed ? ModuleInstallStatus.Failed : r.ModuleInstalled ? ModuleInstallStatus.Installed : ModuleInstallStatus.AlreadyPresent,
                Version = version,
                Path = r.ModuleBase,
                Duration = r.Duration,
                Error = failed ? RemoteCmdlet.MessageOf(r, firstError) : null,
                ErrorId = failed ? RemoteCmdlet.ErrorIdOf(r, firstError) : null,
            };
            if (failed)
            {
                WriteError(RemoteCmdlet.HostError(r.ComputerName, result.ErrorId!, result.Error!, r.Failure));
            }

            WriteObject(result);
        }, CancellationToken);
    }
}

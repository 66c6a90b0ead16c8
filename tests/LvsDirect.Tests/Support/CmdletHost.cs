using System.Management.Automation;
using System.Management.Automation.Runspaces;
using LvsDirect.Core.Tools;
using Xunit;

namespace LvsDirect.Tests.Support;

/// <summary>The cmdlet tests swap static seams (runner, root check), so they must not run in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CmdletCollection
{
    public const string Name = "Cmdlets";
}

/// <summary>Hosts the module's cmdlets in-process with a fake runner and a chosen root status.</summary>
public sealed class CmdletHost : IDisposable
{
    private readonly Runspace _runspace;
    private readonly RecordingHost _host = new();
    private readonly string _recordFolder = Directory.CreateTempSubdirectory("lvsdirect-record-").FullName;

    /// <param name="managed">VIPs in LvsDirect's ownership record (a temp file, never the machine's).</param>
    public CmdletHost(IProcessRunner runner, bool isRoot = true, IEnumerable<string>? managed = null)
    {
        LvsCmdlet.VipRecordPathOverride = () => RecordPath;
        if (managed is not null)
        {
            Core.Persistence.VipRecord.Save(RecordPath, managed.Select(m =>
            {
                var (address, prefix) = Core.Model.InputValidation.ParseVipCidr(m);
                return new Core.Persistence.ManagedVip(address, prefix, "eth0");
            }).ToList());
        }

        LvsCmdlet.RunnerFactory = () => runner;
        LvsCmdlet.IsRoot = () => isRoot;
        LvsCmdlet.LockTimeout = TimeSpan.FromSeconds(10);
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(typeof(LvsCmdlet).Assembly.Location);
        _runspace = RunspaceFactory.CreateRunspace(_host, iss);
        _runspace.Open();
    }

    /// <summary>Runs <paramref name="script"/>: its output, its errors and its Information stream (Write-Information, Write-Host).</summary>
    public (IReadOnlyList<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, IReadOnlyList<string> Information) Invoke(string script)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        var output = ps.Invoke().ToList();
        var info = ps.Streams.Information.Select(i => i.MessageData?.ToString() ?? string.Empty).ToList();
        return (output, ps.Streams.Error.ToList(), info);
    }

    /// <summary>Lines written to the host so far, such as -WhatIf's "What if: …".</summary>
    public IReadOnlyList<string> HostLines => _host.Lines;

    /// <summary>
    /// What -WhatIf showed so far, one operation a line without the "What if: " prefix: ShouldProcess writes it to
    /// the host, never to a stream.
    /// </summary>
    public IReadOnlyList<string> WhatIf =>
        _host.Lines.Where(l => l.StartsWith(WhatIfPrefix, StringComparison.Ordinal)).Select(l => l[WhatIfPrefix.Length..]).ToList();

    private const string WhatIfPrefix = "What if: ";

    /// <summary>The ownership record the hosted cmdlets read and write.</summary>
    public string RecordPath => Path.Combine(_recordFolder, Core.Persistence.VipRecord.FileName);

    /// <summary>Every progress record the cmdlets wrote so far (through the host, the only place a runspace sends them).</summary>
    public IReadOnlyList<ProgressRecord> Progress => _host.Progress;

    /// <summary>
    /// Runs a script that must end in a terminating error and returns that ErrorRecord. Without
    /// -ErrorAction Stop in the script, only a real terminating error (a precondition) is caught.
    /// </summary>
    public ErrorRecord InvokeFailing(string script)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript("try { " + script + " ; 'no terminating error' } catch { $_ }");
        var result = Assert.Single(ps.Invoke());
        return Assert.IsType<ErrorRecord>(result.BaseObject);
    }

    public void Dispose()
    {
        _runspace.Dispose();
        LvsCmdlet.VipRecordPathOverride = null;
        Directory.Delete(_recordFolder, recursive: true);
        LvsCmdlet.RunnerFactory = () => NoRealPrograms.Instance;
        LvsCmdlet.IsRoot = () => Core.Host.Privileges.IsRoot;
    }
}

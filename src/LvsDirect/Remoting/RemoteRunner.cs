using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net.Sockets;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Tools;

namespace LvsDirect.Remoting;

/// <summary>How to reach hosts given by name: PowerShell remoting over SSH (the `powershell` subsystem).</summary>
internal sealed class SshOptions
{
    public string? UserName { get; init; }

    public string? KeyFilePath { get; init; }

    /// <summary>0: ssh's own default (its config, else 22).</summary>
    public int Port { get; init; }

    public int ConnectingTimeoutMs { get; init; } = 30_000;
}

/// <summary>One host to work on: by name (a new SSH session) or through a PSSession the caller opened.</summary>
internal sealed class RemoteTarget
{
    private RemoteTarget(string computerName, PSSession? session)
    {
        ComputerName = computerName;
        Session = session;
    }

    public string ComputerName { get; }

    public PSSession? Session { get; }

    public static RemoteTarget ForHost(string hostName) => new(hostName, null);

    public static RemoteTarget ForSession(PSSession session) => new(session.ComputerName, session);
}

/// <summary>An LvsDirect cmdlet to run on a host, with its parameters (splatted there).</summary>
internal sealed record RemoteInvocation(string CommandName, IDictionary Parameters);

/// <summary>One unit of work: a host, and what to run there (null: only make sure the module is there).</summary>
internal sealed record RemoteWork(RemoteTarget Target, RemoteInvocation? Invocation);

/// <summary>What happened on one host. Failure is set when the host could not be reached or prepared.</summary>
internal sealed class HostRunResult
{
    public required string ComputerName { get; init; }

    public List<PSObject> Output { get; } = [];

    public List<ErrorRecord> Errors { get; } = [];

    public List<string> Warnings { get; } = [];

    public List<string> Verbose { get; } = [];

    /// <summary>The folder the module was used from on the host.</summary>
    public string? ModuleBase { get; set; }

    public bool ModuleInstalled { get; set; }

    /// <summary>Whether a session to the host was open (false: the failure is that it could not be reached).</summary>
    public bool Connected { get; set; }

    public Exception? Failure { get; set; }

    public TimeSpan Duration { get; set; }
}

/// <summary>
/// Runs LvsDirect cmdlets on many hosts at once over PowerShell remoting. Per host it opens one session (or
/// uses the caller's), and in that session makes sure this very build of the module is there (copying it
/// into the remote user's module path when it is missing or another build, in a temporary folder renamed into
/// place) and runs the cmdlet: one round trip when the module is there, two when it is not. The pool of hosts
/// is <see cref="LvsDirect.Core.Agentless.HostParallel"/>, as for every transport (LvsRemoteCmdlet.ForEachRemoteHost).
/// </summary>
internal sealed class RemoteRunner
{
    // Runs on the host. The first object it writes says where the module is (or that it must be sent);
    // everything after it is the cmdlet's output.
    internal const string HostScript = """
        param([string] $Version, [string] $Fingerprint, [byte[]] $Archive, [bool] $Force, [string] $Command, [hashtable] $Parameters)
        # The CurrentUser module folder as pwsh computes it (ModuleIntrinsics.GetPersonalModulePath): XDG_DATA_HOME's,
        # else ~/.local/share's, whether or not it exists yet (GetFolderPath gives '' for a missing XDG_DATA_HOME).
        $data = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local' 'share' }
        $root = Join-Path $data 'powershell' 'Modules' 'LvsDirect'
        $dest = Join-Path $root $Version
        $base = $null
        $installed = $false
        if (-not $Force) {
            $marker = Join-Path $dest '.lvsdirect-build'
            if (Test-Path -LiteralPath (Join-Path $dest 'LvsDirect.psd1')) {
                # Our own copy is compared by build; one installed another way (Install-PSResource) by version.
                if (-not (Test-Path -LiteralPath $marker) -or [IO.File]::ReadAllText($marker).Trim() -eq $Fingerprint) { $base = $dest }
            }
            if (-not $base) {
                $base = Get-Module -ListAvailable -Name LvsDirect | Where-Object { "$($_.Version)" -eq $Version -and $_.ModuleBase -ne $dest } |
                    Select-Object -First 1 -ExpandProperty ModuleBase
            }
        }
        if (-not $base) {
            if (-not $Archive) {
                [pscustomobject]@{ LvsDirectModuleBase = $null; LvsDirectInstalled = $false }
                return
            }
            $null = [IO.Directory]::CreateDirectory($root)
            $id = [guid]::NewGuid().ToString('n')
            $temp = Join-Path $root ".$Version.$id.new"
            $old = $null
            try {
                # The module's files come as one zip (see ModulePayload.Archive), written out one by one.
                $zip = [System.IO.Compression.ZipArchive]::new([IO.MemoryStream]::new($Archive), [System.IO.Compression.ZipArchiveMode]::Read)
                try {
                    foreach ($entry in $zip.Entries) {
                        $path = Join-Path $temp $entry.FullName
                        $null = [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($path))
                        $in = $entry.Open()
                        try {
                            $out = [IO.File]::Create($path)
                            try { $in.CopyTo($out) } finally { $out.Dispose() }
                        }
                        finally { $in.Dispose() }
                    }
                }
                finally { $zip.Dispose() }
                [IO.File]::WriteAllText((Join-Path $temp '.lvsdirect-build'), $Fingerprint)
                if ([IO.Directory]::Exists($dest)) {
                    $old = Join-Path $root ".$Version.$id.old"
                    [IO.Directory]::Move($dest, $old)
                }
                [IO.Directory]::Move($temp, $dest)
            }
            catch {
                if ($old -and -not [IO.Directory]::Exists($dest)) { [IO.Directory]::Move($old, $dest); $old = $null }
                if ([IO.Directory]::Exists($temp)) { [IO.Directory]::Delete($temp, $true) }
                throw
            }
            finally {
                if ($old -and [IO.Directory]::Exists($old)) { [IO.Directory]::Delete($old, $true) }
            }
            $base = $dest
            $installed = $true
        }
        [pscustomobject]@{ LvsDirectModuleBase = $base; LvsDirectInstalled = $installed }
        if ($Command) {
            Import-Module -Name (Join-Path $base 'LvsDirect.psd1') -ErrorAction Stop
            & $Command @Parameters
        }
        """;

    private static readonly Type? SshConnectionInfoType =
        typeof(RunspaceConnectionInfo).Assembly.GetType("System.Management.Automation.Runspaces.SSHConnectionInfo");

    private readonly SshOptions _ssh;
    private readonly bool _force;

    public RemoteRunner(SshOptions ssh, bool force = false)
    {
        _ssh = ssh;
        _force = force;
    }

    /// <summary>
    /// One host, on the caller's thread (a worker of <see cref="LvsDirect.Core.Agentless.HostParallel"/>): never
    /// throws; a host that could not be reached or prepared has <see cref="HostRunResult.Failure"/> set. The
    /// session this opened is closed before it returns.
    /// </summary>
    public HostRunResult Run(RemoteWork item, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var result = new HostRunResult { ComputerName = item.Target.ComputerName };
        Runspace? owned = null;
        try
        {
            var runspace = item.Target.Session?.Runspace ?? (owned = Open(item.Target.ComputerName));
            result.Connected = true;
            Execute(runspace, item.Invocation, result, cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result.Failure = ex;
        }

        result.Duration = watch.Elapsed;
        if (owned is not null)
        {
            try
            {
                // Closed explicitly, on this thread, so a transport error while closing surfaces here.
                owned.Close();
                owned.Dispose();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The host's answer is already in; a session that does not close cleanly changes nothing there.
                Trace.WriteLine($"Closing the session to {item.Target.ComputerName}: {ex.Message}");
            }
        }

        return result;
    }

    private Runspace Open(string hostName)
    {
        if (SshConnectionInfoType is null)
        {
            throw new PlatformNotSupportedException("This PowerShell has no SSH remoting (PowerShell 7 or later is needed).");
        }

        CheckReachable(hostName);

        // SSHConnectionInfo is not in the PowerShellStandard reference this assembly compiles against.
        var ctor = SshConnectionInfoType.GetConstructor([typeof(string), typeof(string), typeof(string), typeof(int), typeof(string), typeof(int)]);
        var info = ctor is not null
            ? (RunspaceConnectionInfo)ctor.Invoke([_ssh.UserName, hostName, _ssh.KeyFilePath, _ssh.Port, "powershell", _ssh.ConnectingTimeoutMs])
            : (RunspaceConnectionInfo)Activator.CreateInstance(SshConnectionInfoType, _ssh.UserName, hostName, _ssh.KeyFilePath, _ssh.Port)!;
        var runspace = RunspaceFactory.CreateRunspace(info);
        try
        {
            runspace.Open();
        }
        catch
        {
            runspace.Dispose();
            throw;
        }

        return runspace;
    }

    /// <summary>
    /// Fails at once, without starting ssh, when the host's SSH port does not accept connections. PowerShell
    /// 7.6's SSH transport can take the whole process down when ssh exits that early (HandleSSHError closes
    /// ssh's stdin on its own thread and the broken pipe is unhandled), so a stopped sshd on one host must
    /// never reach it. The host and port are what ssh itself would use (`ssh -G`); behind a ProxyCommand or
    /// ProxyJump the check is left to ssh.
    /// </summary>
    private void CheckReachable(string hostName)
    {
        var args = new List<string> { "-G" };
        if (!string.IsNullOrEmpty(_ssh.UserName))
        {
            args.AddRange(["-l", _ssh.UserName]);
        }

        if (_ssh.Port > 0)
        {
            args.AddRange(["-p", _ssh.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        args.AddRange(["--", hostName]);
        ToolResult config;
        try
        {
            config = ProcessRunner.Default.Run(new ToolCommand("ssh", args));
        }
        catch (LvsException)
        {
            return;
        }

        var settings = config.StandardOutput.Split('\n')
            .Select(l => l.Trim().Split(' ', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.OrdinalIgnoreCase);
        if (!config.Succeeded || !settings.TryGetValue("hostname", out var host) || !settings.TryGetValue("port", out var portText)
            || !int.TryParse(portText, out var port)
            || (settings.TryGetValue("proxycommand", out var pc) && pc != "none")
            || (settings.TryGetValue("proxyjump", out var pj) && pj != "none"))
        {
            return;
        }

        using var tcp = new TcpClient();
        try
        {
            if (!tcp.ConnectAsync(host, port).Wait(_ssh.ConnectingTimeoutMs))
            {
                throw new TimeoutException($"Cannot reach {hostName}: no answer from {host} port {port} within {_ssh.ConnectingTimeoutMs / 1000} s.");
            }
        }
        catch (AggregateException ex) when (ex.InnerException is SocketException se)
        {
            throw new IOException($"Cannot reach {hostName}: connecting to {host} port {port} failed: {se.Message}.", se);
        }
    }

    private void Execute(Runspace runspace, RemoteInvocation? invocation, HostRunResult result, CancellationToken cancellationToken)
    {
        var payload = ModulePayload.Current;
        var sendFiles = _force;
        while (true)
        {
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript(HostScript)
                .AddParameter("Version", payload.Version)
                .AddParameter("Fingerprint", payload.Fingerprint)
                .AddParameter("Archive", sendFiles ? payload.Archive : null)
                .AddParameter("Force", _force)
                .AddParameter("Command", invocation?.CommandName)
                .AddParameter("Parameters", invocation?.Parameters ?? new Hashtable());
            var output = new PSDataCollection<PSObject>();
            using var stop = cancellationToken.Register(() => ps.BeginStop(null, null));
            Exception? terminating = null;
            try
            {
                ps.Invoke(null, output);
            }
            catch (Exception ex) when (ex is RuntimeException or InvalidOperationException)
            {
                terminating = ex;
            }

            var status = output.Count > 0 ? output[0] : null;
            var moduleBase = status?.Properties["LvsDirectModuleBase"]?.Value as string;
            if (status is null || status.Properties["LvsDirectModuleBase"] is null)
            {
                throw terminating ?? new InvalidOperationException("The host answered nothing.");
            }

            if (moduleBase is null && !sendFiles)
            {
                sendFiles = true;
                continue;
            }

            result.ModuleBase = moduleBase;
            result.ModuleInstalled = status.Properties["LvsDirectInstalled"]?.Value is true;
            foreach (var o in output.Skip(1))
            {
                if (o.Properties["PSComputerName"] is null)
                {
                    o.Properties.Add(new PSNoteProperty("PSComputerName", result.ComputerName));
                }

                result.Output.Add(o);
            }

            result.Errors.AddRange(ps.Streams.Error);
            result.Warnings.AddRange(ps.Streams.Warning.Select(w => w.Message));
            result.Verbose.AddRange(ps.Streams.Verbose.Select(v => v.Message));
            if (terminating is not null)
            {
                result.Failure = terminating;
            }

            return;
        }
    }
}

using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Remoting;

namespace LvsDirect;

/// <summary>
/// Base of the cmdlets that work on other hosts (Set-LvsRealServer, Get-LvsVip, Test-LvsRealServer,
/// Install-LvsDirect): the connection parameters (<see cref="ConnectionParameters"/>), resolved once into a
/// <see cref="Remoting.Connection"/> for both transports, the one pool with its progress for PowerShell remoting
/// (the agentless transport uses <see cref="LvsCmdlet.ForEachHost"/> directly), and the one way a failed host is
/// reported (<see cref="HostFailure"/>).
/// </summary>
public abstract class LvsRemoteCmdlet : LvsCmdlet, IDynamicParameters
{
    private RuntimeDefinedParameterDictionary? _connectionParameters;
    private Connection? _connection;

    /// <summary>The cmdlet's parameter sets that take the connection parameters.</summary>
    private protected abstract ConnectionSets ConnectionSets { get; }

    public object GetDynamicParameters() => _connectionParameters ??= ConnectionParameters.Define(ConnectionSets);

    protected string? UserName => Value<string>(ConnectionParameters.UserName);

    protected string? KeyFilePath => Value<string>(ConnectionParameters.KeyFilePath);

    /// <summary>The SSH port; 0: ssh's own default (its configuration, else 22).</summary>
    protected int SshPort => Value<int?>(ConnectionSets.PortName) ?? 0;

    protected int ThrottleLimit => Value<int?>(ConnectionParameters.ThrottleLimit) ?? ConnectionParameters.DefaultThrottleLimit;

    /// <summary>How to reach hosts by name: PowerShell remoting (the default) or agentless SSH.</summary>
    protected LvsTransport Transport => Value<LvsTransport?>(ConnectionParameters.Transport) ?? LvsTransport.PowerShell;

    private protected Connection Connection =>
        _connection ??= new Connection(UserName, KeyFilePath is { } key ? GetUnresolvedProviderPathFromPSPath(key) : null, SshPort);

    /// <summary>
    /// Runs <paramref name="work"/> over PowerShell remoting in the one host pool (<see cref="LvsCmdlet.ForEachHost"/>),
    /// relays each host's warnings and -Verbose lines prefixed with its name, and hands each result to
    /// <paramref name="onResult"/> on the pipeline thread as it arrives.
    /// </summary>
    private protected void ForEachRemoteHost(int activityId, RemoteRunner runner, IReadOnlyList<RemoteWork> work, Action<HostRunResult> onResult) =>
        ForEachHost(activityId, work, w => w.Target.ComputerName, ThrottleLimit, runner.Run, outcome =>
        {
            // Run never throws; a host that never started (the run was stopped) is a failure like any other.
            var r = outcome.Result ?? new HostRunResult { ComputerName = outcome.Item.Target.ComputerName, Failure = outcome.Error, Duration = outcome.Duration };
            foreach (var w in r.Warnings)
            {
                WriteWarning($"[{r.ComputerName}] {w}");
            }

            foreach (var v in r.Verbose)
            {
                WriteVerbose($"[{r.ComputerName}] {v}");
            }

            onResult(r);
        });

    /// <summary>A failed host's non-terminating error (its result object, when the cmdlet has one, carries the same id).</summary>
    private protected void WriteHostFailure(HostFailure failure, Exception? cause = null) => WriteError(failure.ToErrorRecord(cause));

    private T? Value<T>(string name) =>
        _connectionParameters is not null && _connectionParameters.TryGetValue(name, out var p) && p.IsSet ? (T?)p.Value : default;
}

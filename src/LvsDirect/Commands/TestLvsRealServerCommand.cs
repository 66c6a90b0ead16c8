using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Persistence.Native;
using LvsDirect.Remoting;

namespace LvsDirect.Commands;

/// <summary>
/// Diagnoses this host as an LVS-DR real server: one result per check, each failure naming the command that
/// fixes it. It only reads; a remote or pool run is this cmdlet run on each host, whose results carry the
/// host's name.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "LvsRealServer", DefaultParameterSetName = LocalSet)]
[OutputType(typeof(RealServerCheck), typeof(bool))]
public sealed class TestLvsRealServerCommand : LvsRemoteCmdlet
{
    private const string LocalSet = "Local";
    private const string HostSet = "HostName";

    // -Port is the service port here, so the SSH port is -SshPort.
    private static readonly ConnectionSets Sets = new([HostSet], [HostSet], PortName: ConnectionParameters.SshPort);

    private readonly List<DiagnosisInput> _inputs = [];

    /// <summary>
    /// Real servers to diagnose remotely. Without it, piped services (Import-LvsConfig) name the hosts: every real
    /// server of them, when a connection parameter (-Transport, -UserName, -KeyFilePath, -SshPort) is given.
    /// </summary>
    [Parameter(ParameterSetName = HostSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    private protected override ConnectionSets ConnectionSets => Sets;

    /// <summary>The VIPs to check; by default every VIP the host shows or its boot files mention.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[]? VirtualIP { get; set; }

    /// <summary>Service ports that must have a listener on the VIP (or on every address); 0 means none.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 65535)]
    public int[]? Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("tcp", "udp", "sctp")]
    public string? Protocol { get; set; }

    /// <summary>
    /// The real servers of a piped virtual service (Import-LvsConfig): the service is checked only when one of them is
    /// an address of this host.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyCollection]
    public object[]? RealServers { get; set; }

    /// <summary>The director's address: the default gateway must not be it, and it tells which interface faces it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DirectorAddress { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RcLocalPath { get; set; }

    /// <summary>The saved arptables rules (Save-ArpSuppression's file).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ArpRulesPath { get; set; }

    /// <summary>LvsDirect's systemd unit (Export-RcLocal -Target SystemdUnit), the boot file when rc.local has no block.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SystemdUnitPath { get; set; }

    /// <summary>The nftables method's file (Save-ArpSuppression -Method Nftables -Path).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NftRulesPath { get; set; }

    /// <summary>The host's nftables configuration that must include <see cref="NftRulesPath"/>.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NftConfigPath { get; set; }

    /// <summary>
    /// The root of the network stacks' configuration that Save-LvsVip wrote to (its -Path); local runs only. By
    /// default "/", except in a namespace made with ip netns, whose network the host's /etc does not describe.
    /// </summary>
    [Parameter(ParameterSetName = LocalSet)]
    [ValidateNotNullOrEmpty]
    public string? NetworkConfigPath { get; set; }

    /// <summary>Return only $true (no check failed) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        if (VirtualIP is null && RealServers is null && (Port is null || Port.Length == 0))
        {
            return;
        }

        _inputs.Add(new DiagnosisInput(
            VirtualIP?.Select(v => InputValidation.ParseCidr(v).Address).ToList(),
            (Port ?? []).Where(p => p > 0).ToList(),
            (Optional(Protocol) ?? "tcp").ToLowerInvariant(),
            RealServers?.Where(r => r is not null).Select(AddressOf).ToList()));
    });

    protected override void EndProcessing() => Guard(() =>
    {
        var director = Optional(DirectorAddress) is { } d ? InputValidation.ParseIPv4(d, "director address") : null;
        if (ParameterSetName == HostSet)
        {
            RunRemote(new RealServerTest(_inputs, director, Paths(p => RemotePath(p.Value, p.Name))));
            return;
        }

        var root = IsRoot();
        if (!root)
        {
            WriteWarning(RealServerTest.NotRootWarning);
        }

        // The host's own network configuration, and NetworkManager's profiles, describe this namespace unless it
        // was made with ip netns (which shares the host's /etc) or -NetworkConfigPath names another root.
        var ownNetwork = NetworkConfigPath is null && Scope.Kind != HostScopeKind.Named;
        var paths = Paths(p => GetUnresolvedProviderPathFromPSPath(p.Value)) with
        {
            NetworkConfigRoot = NetworkConfigPath is not null ? GetUnresolvedProviderPathFromPSPath(NetworkConfigPath) : ownNetwork ? "/" : null,
            NmProfileRecordPath = ownNetwork && root
                ? NmProfileRecord.PathBeside(VipRecordPathOverride?.Invoke() ?? Path.Combine(Scope.StateDirectory, VipRecord.FileName))
                : null,
        };
        var test = new RealServerTest(_inputs, director, paths);
        var results = Write(test.DiagnoseHere(Runner, Dns.GetHostName(), root, CancellationToken));
        if (Quiet)
        {
            WriteObject(RealServerTest.Verdict(results));
        }
    });

    /// <summary>The boot file parameters, each resolved as the transport needs (here: a provider path; remote: absolute there).</summary>
    private DiagnosisPaths Paths(Func<(string Name, string Value), string> resolve)
    {
        string? Resolve(string? value, string name) => value is null ? null : resolve((name, value));
        return new DiagnosisPaths
        {
            RcLocalPath = Resolve(RcLocalPath, nameof(RcLocalPath)),
            SavedRulesPath = Resolve(ArpRulesPath, nameof(ArpRulesPath)),
            SystemdUnitPath = Resolve(SystemdUnitPath, nameof(SystemdUnitPath)),
            NftFilePath = Resolve(NftRulesPath, nameof(NftRulesPath)),
            NftConfigPaths = NftConfigPath is null ? null : [Resolve(NftConfigPath, nameof(NftConfigPath))!],
        };
    }

    /// <summary>Writes a host's results (unless -Quiet) and why services were skipped; returns the results.</summary>
    private IReadOnlyList<RealServerCheck> Write(HostDiagnosis diagnosis)
    {
        foreach (var skipped in diagnosis.Skipped)
        {
            WriteVerbose(skipped);
        }

        if (diagnosis.Warning is not null)
        {
            WriteWarning(diagnosis.Warning);
        }

        if (!Quiet)
        {
            WriteObject(diagnosis.Results, enumerateCollection: true);
        }

        return diagnosis.Results;
    }

    /// <summary>Diagnoses each host: its snapshot is read there, the checks run here, results carry the host's name.</summary>
    private void RunRemote(RealServerTest test)
    {
        var hosts = HostName.Length > 0 ? HostName.Distinct(StringComparer.OrdinalIgnoreCase).ToList() : test.ServiceHosts;
        if (hosts.Count == 0)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, "Give -HostName, or pipe virtual services (Import-LvsConfig) whose real servers are the hosts to diagnose.");
        }

        if (Transport == LvsTransport.PowerShell)
        {
            RunOverRemoting(hosts, test);
            return;
        }

        var targets = hosts.Select(Connection.Target).ToList();
        var channel = new AgentlessChannel();
        var all = new List<RealServerCheck>();
        ForEachHost(
            ProgressActivityId + 1,
            targets,
            t => t.HostName,
            ThrottleLimit,
            (t, ct) => test.DiagnoseOverSsh(channel, t, ct),
            outcome =>
            {
                if (outcome.Error is { } error)
                {
                    var failure = Remoting.HostFailure.FromException(outcome.Item.HostName, error);
                    WriteHostFailure(failure, error);
                    all.AddRange(Write(new HostDiagnosis([RealServerTest.ConnectionFailure(failure.ComputerName, failure.Message, failure.Kind)], [], null)));
                    return;
                }

                all.AddRange(Write(outcome.Result!));
            });

        if (Quiet)
        {
            WriteObject(RealServerTest.Verdict(all));
        }
    }

    /// <summary>
    /// PowerShell remoting: this cmdlet runs on each host (the module is copied there when missing) with the VIPs
    /// and ports of the services that name the host (all of them with -HostName), and its checks come back
    /// under the host's name here.
    /// </summary>
    private void RunOverRemoting(IReadOnlyList<string> hosts, RealServerTest test)
    {
        var work = hosts
            .Select(host => new RemoteWork(
                Connection.RemoteTarget(host),
                new RemoteInvocation("Test-LvsRealServer", new System.Collections.Hashtable(test.RemotingParameters(host, HostName.Length > 0).ToDictionary()))))
            .ToList();
        var all = new List<RealServerCheck>();
        ForEachRemoteHost(ProgressActivityId + 1, Connection.Runner(), work, r =>
        {
            IReadOnlyList<RealServerCheck> results;
            if (r.Failure is not null || (r.Errors.Count > 0 && r.Output.Count == 0))
            {
                var failure = Remoting.HostFailure.FromResult(r)!;
                WriteHostFailure(failure, r.Failure);
                results = [RealServerTest.ConnectionFailure(failure.ComputerName, failure.Message, failure.Kind)];
            }
            else
            {
                results = r.Output.Select(o => FromRemote(r.ComputerName, o)).OfType<RealServerCheck>().ToList();
            }

            all.AddRange(Write(new HostDiagnosis(results, [], null)));
        });

        if (Quiet)
        {
            WriteObject(RealServerTest.Verdict(all));
        }
    }

    /// <summary>A check that came back over remoting (deserialized), under the name the host was reached by.</summary>
    private static RealServerCheck? FromRemote(string computerName, PSObject o)
    {
        string? Text(string name) => o.Properties[name]?.Value?.ToString();
        if (Text("Check") is not { } check || !Enum.TryParse<CheckStatus>(Text("Status"), true, out var status))
        {
            return null;
        }

        return new RealServerCheck
        {
            ComputerName = computerName,
            Check = check,
            Target = Text("Target") ?? string.Empty,
            Status = status,
            Detail = Text("Detail") ?? string.Empty,
            Remediation = Text("Remediation"),
        };
    }

    /// <summary>An LvsRealServerEntry, its deserialized form (a remote Import-LvsConfig), or a plain address.</summary>
    private static IPAddress AddressOf(object o)
    {
        var ps = PSObject.AsPSObject(o);
        // IPAddress has an obsolete numeric Address property of its own: take it as the address, not that.
        var value = ps.BaseObject is IPAddress or string ? ps : PSObject.AsPSObject(ps.Properties["Address"]?.Value ?? ps);
        if (value.BaseObject is IPAddress ip)
        {
            return ip;
        }

        // Remoting serializes the entries one level deep, as their ToString() "192.0.2.11:80"; a deserialized
        // IPAddress keeps its text form there too.
        return IPEndPoint.TryParse(value.ToString(), out var parsed)
            ? parsed.Address
            : throw new LvsException(LvsErrorKind.InvalidArgument, $"The real server '{o}' has no address.", o.ToString());
    }
}

using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
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

    private readonly List<Request> _requests = [];

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

    /// <summary>The nftables method's file (Save-ArpSuppression -Method Nftables -Path); local runs only.</summary>
    [Parameter(ParameterSetName = LocalSet)]
    [ValidateNotNullOrEmpty]
    public string? NftRulesPath { get; set; }

    /// <summary>The host's nftables configuration that must include <see cref="NftRulesPath"/>; local runs only.</summary>
    [Parameter(ParameterSetName = LocalSet)]
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

        _requests.Add(new Request(
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
            RunRemote(director);
            return;
        }

        var root = IsRoot();
        if (!root)
        {
            WriteWarning("Not running as root: the arptables rules cannot be read, so suppression by arptables is reported as unknown.");
        }

        var wantListeners = _requests.Any(r => r.Ports.Count > 0);
        var snapshot = new RealServerProbe(Runner).Read(
            new ProbeOptions
            {
                ComputerName = Dns.GetHostName(),
                ReadArpRules = root,
                ReadListeners = wantListeners,
                RcLocalPath = RcLocalPath is null ? RcLocal.DefaultPath() : GetUnresolvedProviderPathFromPSPath(RcLocalPath),
                SavedRulesPath = ArpRulesPath is null ? SaveArpSuppressionCommand.DefaultPath : GetUnresolvedProviderPathFromPSPath(ArpRulesPath),
                SystemdUnitPath = SystemdUnitPath is null ? SystemdUnit.DefaultPath : GetUnresolvedProviderPathFromPSPath(SystemdUnitPath),
                SysctlFiles = PersistedConfig.DefaultSysctlFiles(),
                NftFilePath = NftRulesPath is null ? NftConf.DefaultPath : GetUnresolvedProviderPathFromPSPath(NftRulesPath),
                NftConfigPaths = NftConfigPath is null ? NftConf.HostConfigs : [GetUnresolvedProviderPathFromPSPath(NftConfigPath)],
                NetworkConfigRoot = NetworkConfigPath is not null ? GetUnresolvedProviderPathFromPSPath(NetworkConfigPath)
                    : Core.Host.HostScope.Current().Kind == Core.Host.HostScopeKind.Named ? null : "/",
            },
            CancellationToken);

        var request = BuildRequest(snapshot, director);
        if (request is null)
        {
            if (Quiet)
            {
                WriteObject(false);
            }

            return;
        }

        var results = RealServerDiagnosis.Run(snapshot, request);
        if (Quiet)
        {
            WriteObject(results.All(r => r.Status != CheckStatus.Fail));
            return;
        }

        WriteObject(results, enumerateCollection: true);
    });

    /// <summary>Diagnoses each host: its snapshot is read there, the checks run here, results carry the host's name.</summary>
    private void RunRemote(IPAddress? director)
    {
        var rcLocal = RcLocalPath is null ? null : RemotePath(RcLocalPath, nameof(RcLocalPath));
        var saved = ArpRulesPath is null ? null : RemotePath(ArpRulesPath, nameof(ArpRulesPath));
        var unit = SystemdUnitPath is null ? SystemdUnit.DefaultPath : RemotePath(SystemdUnitPath, nameof(SystemdUnitPath));
        var hosts = HostName.Length > 0
            ? HostName
            : _requests.SelectMany(r => r.RealServers ?? []).Select(a => a.ToString()).ToArray();
        if (hosts.Length == 0)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, "Give -HostName, or pipe virtual services (Import-LvsConfig) whose real servers are the hosts to diagnose.");
        }

        if (Transport == LvsTransport.PowerShell)
        {
            RunOverRemoting(hosts.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), director);
            return;
        }

        var targets = hosts.Distinct(StringComparer.OrdinalIgnoreCase).Select(Connection.Target).ToList();
        var wantListeners = _requests.Any(r => r.Ports.Count > 0);
        var channel = new AgentlessChannel();
        var all = new List<RealServerCheck>();
        ForEachHost(
            ProgressActivityId + 1,
            targets,
            t => t.HostName,
            ThrottleLimit,
            (t, ct) => AgentlessDiagnosis.ToSnapshot(
                channel.Run(t, [.. AgentlessDiagnosis.FilesToRead(rcLocal, saved), unit], _ => null, ct, RemoteReads.Sysctl | RemoteReads.Sockets).Snapshot!,
                t.HostName,
                rcLocal,
                saved,
                wantListeners,
                unit),
            outcome =>
            {
                IReadOnlyList<RealServerCheck> results;
                if (outcome.Error is { } error)
                {
                    var failure = HostFailure.FromException(outcome.Item.HostName, error);
                    WriteHostFailure(failure, error);
                    results = [ConnectionFailure(failure)];
                }
                else
                {
                    var request = BuildRequest(outcome.Result!, director);
                    results = request is null ? [] : RealServerDiagnosis.Run(outcome.Result!, request);
                }

                all.AddRange(results);
                if (!Quiet)
                {
                    WriteObject(results, enumerateCollection: true);
                }
            });

        if (Quiet)
        {
            WriteObject(all.Count > 0 && all.All(r => r.Status != CheckStatus.Fail));
        }
    }

    /// <summary>
    /// PowerShell remoting: this cmdlet runs on each host (the module is copied there when missing) with the VIPs
    /// and ports of the services that name the host (all of them with -HostName), and its checks come back
    /// under the host's name here.
    /// </summary>
    private void RunOverRemoting(IReadOnlyList<string> hosts, IPAddress? director)
    {
        var work = new List<RemoteWork>();
        foreach (var host in hosts)
        {
            var mine = IPAddress.TryParse(host, out var address) && HostName.Length == 0
                ? _requests.Where(r => r.RealServers is null || r.RealServers.Contains(address)).ToList()
                : _requests;
            var parameters = new System.Collections.Hashtable();
            var vips = mine.SelectMany(r => r.Vips ?? []).Distinct().Select(v => v.ToString()).ToArray();
            var ports = mine.SelectMany(r => r.Ports).Distinct().ToArray();
            if (vips.Length > 0)
            {
                parameters["VirtualIP"] = vips;
            }

            if (ports.Length > 0)
            {
                parameters["Port"] = ports;
                parameters["Protocol"] = mine.First(r => r.Ports.Count > 0).Protocol;
            }

            if (director is not null)
            {
                parameters["DirectorAddress"] = director.ToString();
            }

            if (RcLocalPath is not null)
            {
                parameters["RcLocalPath"] = RemotePath(RcLocalPath, nameof(RcLocalPath));
            }

            if (ArpRulesPath is not null)
            {
                parameters["ArpRulesPath"] = RemotePath(ArpRulesPath, nameof(ArpRulesPath));
            }

            if (SystemdUnitPath is not null)
            {
                parameters["SystemdUnitPath"] = RemotePath(SystemdUnitPath, nameof(SystemdUnitPath));
            }

            work.Add(new RemoteWork(Connection.RemoteTarget(host), new RemoteInvocation("Test-LvsRealServer", parameters)));
        }

        var all = new List<RealServerCheck>();
        ForEachRemoteHost(ProgressActivityId + 1, Connection.Runner(), work, r =>
        {
            IReadOnlyList<RealServerCheck> results;
            if (r.Failure is not null || (r.Errors.Count > 0 && r.Output.Count == 0))
            {
                var failure = HostFailure.FromResult(r)!;
                WriteHostFailure(failure, r.Failure);
                results = [ConnectionFailure(failure)];
            }
            else
            {
                results = r.Output.Select(o => FromRemote(r.ComputerName, o)).OfType<RealServerCheck>().ToList();
            }

            all.AddRange(results);
            if (!Quiet)
            {
                WriteObject(results, enumerateCollection: true);
            }
        });

        if (Quiet)
        {
            WriteObject(all.Count > 0 && all.All(r => r.Status != CheckStatus.Fail));
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

    /// <summary>A host that could not be diagnosed: a failed Connection check, the same on both transports.</summary>
    private static RealServerCheck ConnectionFailure(HostFailure failure) => new()
    {
        ComputerName = failure.ComputerName,
        Check = CheckNames.Connection,
        Target = failure.ComputerName,
        Status = CheckStatus.Fail,
        Detail = failure.Message,
        Remediation = failure.Kind switch
        {
            LvsErrorKind.HostKeyUnknown => $"ssh-keyscan {failure.ComputerName} >> ~/.ssh/known_hosts (after checking the key)",
            LvsErrorKind.AuthenticationFailed => "Check -UserName and -KeyFilePath",
            _ => null,
        },
    };

    private DiagnosisRequest? BuildRequest(RealServerSnapshot snapshot, IPAddress? director)
    {
        if (_requests.Count == 0)
        {
            return new DiagnosisRequest { DirectorAddress = director };
        }

        // Piped virtual services name their real servers: this host checks only those it is one of.
        var own = snapshot.State.AllAddresses.Select(a => a.Address).ToHashSet();
        var mine = _requests.Where(r => r.RealServers is null || r.RealServers.Count == 0 || r.RealServers.Any(own.Contains)).ToList();
        foreach (var skipped in _requests.Except(mine))
        {
            WriteVerbose($"Skipped {string.Join(", ", skipped.Vips ?? [])}: none of its real servers ({string.Join(", ", skipped.RealServers!)}) is an address of this host.");
        }

        if (mine.Count == 0)
        {
            WriteWarning($"None of the {_requests.Count} virtual service(s) names an address of this host ({string.Join(", ", own.Where(a => !IPAddress.IsLoopback(a)))}) as a real server: nothing to check.");
            return null;
        }

        var explicitVips = mine.Any(r => r.Vips is not null);
        var vips = explicitVips
            ? mine.SelectMany(r => r.Vips ?? []).Distinct().ToList()
            : RealServerDiagnosis.DiscoverVips(snapshot).ToList();
        var services = new List<ServiceEndpoint>();
        foreach (var r in mine)
        {
            foreach (var vip in r.Vips ?? vips)
            {
                foreach (var port in r.Ports)
                {
                    var service = new ServiceEndpoint(vip, port, r.Protocol);
                    if (!services.Contains(service))
                    {
                        services.Add(service);
                    }
                }
            }
        }

        return new DiagnosisRequest { VirtualIPs = explicitVips ? vips : null, Services = services, DirectorAddress = director };
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

    private sealed record Request(List<IPAddress>? Vips, List<int> Ports, string Protocol, List<IPAddress>? RealServers);
}

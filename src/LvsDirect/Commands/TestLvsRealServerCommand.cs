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
public sealed class TestLvsRealServerCommand : LvsCmdlet
{
    private const string LocalSet = "Local";
    private const string HostSet = "HostName";

    private readonly List<Request> _requests = [];

    /// <summary>
    /// Real servers to diagnose remotely. Without it, piped services (Import-LvsConfig) name the hosts: every real
    /// server of them, when a connection parameter (-Transport, -UserName, -KeyFilePath, -SshPort) is given.
    /// </summary>
    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? UserName { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? KeyFilePath { get; set; }

    /// <summary>The SSH port (-Port is the service port to find a listener on); 0: ssh's own default.</summary>
    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(0, 65535)]
    public int SshPort { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>How to reach the hosts: PowerShell remoting (the default) or agentless SSH.</summary>
    [Parameter(ParameterSetName = HostSet)]
    public LvsTransport Transport { get; set; } = LvsTransport.PowerShell;

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
        string? Local(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);
        var paths = new DiagnosisPaths
        {
            RcLocalPath = Local(RcLocalPath),
            SavedRulesPath = Local(ArpRulesPath),
            SystemdUnitPath = Local(SystemdUnitPath),
            NftFilePath = Local(NftRulesPath),
            NftConfigPaths = NftConfigPath is null ? null : [Local(NftConfigPath)!],
        };
        var snapshot = new RealServerProbe(Runner).Read(Dns.GetHostName(), paths, wantListeners, root, CancellationToken);

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
        var paths = new DiagnosisPaths
        {
            RcLocalPath = RcLocalPath is null ? null : RemotePath(RcLocalPath, nameof(RcLocalPath)),
            SavedRulesPath = ArpRulesPath is null ? null : RemotePath(ArpRulesPath, nameof(ArpRulesPath)),
            SystemdUnitPath = SystemdUnitPath is null ? null : RemotePath(SystemdUnitPath, nameof(SystemdUnitPath)),
            NftFilePath = NftRulesPath is null ? null : RemotePath(NftRulesPath, nameof(NftRulesPath)),
            NftConfigPaths = NftConfigPath is null ? null : [RemotePath(NftConfigPath, nameof(NftConfigPath))],
        };
        var hosts = HostName.Length > 0
            ? HostName
            : _requests.SelectMany(r => r.RealServers ?? []).Select(a => a.ToString()).ToArray();
        if (hosts.Length == 0)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, "Give -HostName, or pipe virtual services (Import-LvsConfig) whose real servers are the hosts to diagnose.");
        }

        if (Transport == LvsTransport.PowerShell)
        {
            RunOverRemoting(hosts.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), director, paths);
            return;
        }

        var targets = hosts.Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(h => new SshTarget(h, UserName, SshPort == 0 ? null : SshPort, KeyFilePath is null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath)))
            .ToList();
        var wantListeners = _requests.Any(r => r.Ports.Count > 0);
        var channel = new AgentlessChannel();
        var all = new List<RealServerCheck>();
        ForEachHost(
            ProgressActivityId + 1,
            targets,
            t => t.HostName,
            ThrottleLimit,
            (t, ct) => AgentlessDiagnosis.Diagnose(channel, t, paths, wantListeners, ct),
            outcome =>
            {
                IReadOnlyList<RealServerCheck> results;
                if (outcome.Error is { } error)
                {
                    var lvs = HostFailure(error, outcome.Item);
                    WriteLvsError(lvs);
                    results =
                    [
                        ConnectionFailure(outcome.Item.HostName, lvs.Message, lvs.Kind switch
                        {
                            LvsErrorKind.HostKeyUnknown => $"ssh-keyscan {outcome.Item.HostName} >> ~/.ssh/known_hosts (after checking the key)",
                            LvsErrorKind.AuthenticationFailed => "Check -UserName and -KeyFilePath",
                            _ => null,
                        }),
                    ];
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
    private void RunOverRemoting(IReadOnlyList<string> hosts, IPAddress? director, DiagnosisPaths paths)
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

            foreach (var (name, value) in new[]
            {
                (nameof(RcLocalPath), paths.RcLocalPath), (nameof(ArpRulesPath), paths.SavedRulesPath), (nameof(SystemdUnitPath), paths.SystemdUnitPath),
                (nameof(NftRulesPath), paths.NftFilePath), (nameof(NftConfigPath), paths.NftConfigPaths?[0]),
            })
            {
                if (value is not null)
                {
                    parameters[name] = value;
                }
            }

            work.Add(new RemoteWork(RemoteTarget.ForHost(host), new RemoteInvocation("Test-LvsRealServer", parameters)));
        }

        var all = new List<RealServerCheck>();
        var runner = RemoteCmdlet.CreateRunner(UserName, KeyFilePath, SshPort, ThrottleLimit);
        RemoteCmdlet.RunWithProgress(this, runner, work, "Test-LvsRealServer", r =>
        {
            IReadOnlyList<RealServerCheck> results;
            var firstError = r.Errors.FirstOrDefault();
            if (r.Failure is not null || (firstError is not null && r.Output.Count == 0))
            {
                var id = RemoteCmdlet.ErrorIdOf(r, firstError);
                var message = RemoteCmdlet.MessageOf(r, firstError);
                WriteError(RemoteCmdlet.HostError(r.ComputerName, id, message, r.Failure));
                results = [ConnectionFailure(r.ComputerName, message, null)];
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
        }, CancellationToken);

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

    private static RealServerCheck ConnectionFailure(string computerName, string message, string? remediation) => new()
    {
        ComputerName = computerName,
        Check = CheckNames.Connection,
        Target = computerName,
        Status = CheckStatus.Fail,
        Detail = message,
        Remediation = remediation,
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

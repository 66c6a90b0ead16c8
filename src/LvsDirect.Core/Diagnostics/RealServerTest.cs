using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Diagnostics;

/// <summary>
/// One thing Test-LvsRealServer was asked about: -VirtualIP/-Port/-Protocol, or a piped virtual service with its
/// real servers (null: every host serves it).
/// </summary>
public sealed record DiagnosisInput(IReadOnlyList<IPAddress>? Vips, IReadOnlyList<int> Ports, string Protocol, IReadOnlyList<IPAddress>? RealServers);

/// <summary>A host's diagnosis: its results, and why some services were not checked there.</summary>
public sealed record HostDiagnosis(IReadOnlyList<RealServerCheck> Results, IReadOnlyList<string> Skipped, string? Warning);

/// <summary>
/// Test-LvsRealServer as a use case: which services each host is checked for, its snapshot read on any transport
/// (<see cref="RealServerProbe"/> here, <see cref="AgentlessDiagnosis"/> over ssh), the checks, and the verdict.
/// </summary>
public sealed class RealServerTest
{
    public const string NotRootWarning = "Not running as root: the arptables rules cannot be read, so suppression by arptables is reported as unknown.";

    private readonly IReadOnlyList<DiagnosisInput> _inputs;

    public RealServerTest(IReadOnlyList<DiagnosisInput> inputs, IPAddress? director, DiagnosisPaths paths)
    {
        _inputs = inputs;
        Director = director;
        Paths = paths;
    }

    public IPAddress? Director { get; }

    public DiagnosisPaths Paths { get; }

    /// <summary>A port was asked about, so the listening sockets are read.</summary>
    public bool WithListeners => _inputs.Any(r => r.Ports.Count > 0);

    /// <summary>The hosts the piped services name, for a remote run without -HostName.</summary>
    public IReadOnlyList<string> ServiceHosts =>
        _inputs.SelectMany(r => r.RealServers ?? []).Select(a => a.ToString()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>$true from -Quiet: something was checked and nothing failed.</summary>
    public static bool Verdict(IReadOnlyCollection<RealServerCheck> results) => results.Count > 0 && results.All(r => r.Status != CheckStatus.Fail);

    public HostDiagnosis DiagnoseHere(IProcessRunner runner, string computerName, bool isRoot, CancellationToken cancellationToken) =>
        Diagnose(new RealServerProbe(runner).Read(computerName, Paths, WithListeners, isRoot, cancellationToken));

    public HostDiagnosis DiagnoseOverSsh(AgentlessChannel channel, SshTarget target, CancellationToken cancellationToken) =>
        Diagnose(AgentlessDiagnosis.Diagnose(channel, target, Paths, WithListeners, cancellationToken));

    /// <summary>The checks of one host's snapshot, for the services that name one of its addresses.</summary>
    public HostDiagnosis Diagnose(RealServerSnapshot snapshot)
    {
        if (_inputs.Count == 0)
        {
            return new HostDiagnosis(RealServerDiagnosis.Run(snapshot, new DiagnosisRequest { DirectorAddress = Director }), [], null);
        }

        // Piped virtual services name their real servers: this host checks only those it is one of.
        var own = snapshot.State.AllAddresses.Select(a => a.Address).ToHashSet();
        var mine = _inputs.Where(r => r.RealServers is null || r.RealServers.Count == 0 || r.RealServers.Any(own.Contains)).ToList();
        var skipped = _inputs.Except(mine)
            .Select(s => $"Skipped {string.Join(", ", s.Vips ?? [])}: none of its real servers ({string.Join(", ", s.RealServers!)}) is an address of this host.")
            .ToList();
        if (mine.Count == 0)
        {
            return new HostDiagnosis([], skipped,
                $"None of the {_inputs.Count} virtual service(s) names an address of this host ({string.Join(", ", own.Where(a => !IPAddress.IsLoopback(a)))}) as a real server: nothing to check.");
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

        var request = new DiagnosisRequest { VirtualIPs = explicitVips ? vips : null, Services = services, DirectorAddress = Director };
        return new HostDiagnosis(RealServerDiagnosis.Run(snapshot, request), skipped, null);
    }

    /// <summary>
    /// The parameters Test-LvsRealServer gets on <paramref name="host"/> over PowerShell remoting: the VIPs and
    /// ports of the services that name it (all of them when the hosts were named with -HostName), the director
    /// and the boot file paths.
    /// </summary>
    public IReadOnlyDictionary<string, object> RemotingParameters(string host, bool namedHosts)
    {
        var mine = IPAddress.TryParse(host, out var address) && !namedHosts
            ? _inputs.Where(r => r.RealServers is null || r.RealServers.Contains(address)).ToList()
            : _inputs;
        var parameters = new Dictionary<string, object>(StringComparer.Ordinal);
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

        foreach (var (name, value) in new[]
        {
            ("DirectorAddress", Director?.ToString()), ("RcLocalPath", Paths.RcLocalPath), ("ArpRulesPath", Paths.SavedRulesPath),
            ("SystemdUnitPath", Paths.SystemdUnitPath), ("NftRulesPath", Paths.NftFilePath), ("NftConfigPath", Paths.NftConfigPaths?[0]),
        })
        {
            if (value is not null)
            {
                parameters[name] = value;
            }
        }

        return parameters;
    }

    /// <summary>A host that could not be reached or read: one failed check instead of its checks, naming the fix where there is one.</summary>
    public static RealServerCheck ConnectionFailure(string computerName, string message, LvsErrorKind? kind) => new()
    {
        ComputerName = computerName,
        Check = CheckNames.Connection,
        Target = computerName,
        Status = CheckStatus.Fail,
        Detail = message,
        Remediation = kind switch
        {
            LvsErrorKind.HostKeyUnknown => $"ssh-keyscan {computerName} >> ~/.ssh/known_hosts (after checking the key)",
            LvsErrorKind.AuthenticationFailed => "Check -UserName and -KeyFilePath",
            _ => null,
        },
    };
}

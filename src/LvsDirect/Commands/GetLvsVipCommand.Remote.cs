using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Commands;

/// <summary>Get-LvsVip -HostName -Transport Ssh: the VIPs of many real servers, read with one agentless session each.</summary>
public sealed partial class GetLvsVipCommand
{
    private const string LocalSet = "Local";
    private const string HostSet = "HostName";

    /// <summary>Real servers to list, read over agentless SSH (for PowerShell remoting use Invoke-Command).</summary>
    [Parameter(Mandatory = true, ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? UserName { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateNotNullOrEmpty]
    public string? KeyFilePath { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    [Parameter(ParameterSetName = HostSet)]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Only Ssh (agentless) here: with PowerShell remoting, run Get-LvsVip inside Invoke-Command.</summary>
    [Parameter(Mandatory = true, ParameterSetName = HostSet)]
    [ValidateSet(nameof(LvsTransport.Ssh))]
    public LvsTransport Transport { get; set; } = LvsTransport.Ssh;

    private void ListRemote(HashSet<IPAddress>? filter)
    {
        var key = KeyFilePath is null ? null : GetUnresolvedProviderPathFromPSPath(KeyFilePath);
        var targets = HostName.Distinct(StringComparer.OrdinalIgnoreCase).Select(h => new SshTarget(h, UserName, Port == 0 ? null : Port, key)).ToList();
        var interfaceName = Optional(InterfaceName);
        var channel = new AgentlessChannel();
        foreach (var outcome in HostParallel.Run(targets, ThrottleLimit, (t, ct) => channel.Run(t, AgentlessDiagnosis.OwnershipFiles(null), _ => null, ct).Snapshot!, CancellationToken))
        {
            if (outcome.Error is { } error)
            {
                var lvs = HostFailure(error, outcome.Item);
                WriteError(new ErrorRecord(lvs, lvs.ErrorId, CategoryFor(lvs.Kind), outcome.Item.HostName));
                continue;
            }

            var snapshot = outcome.Result!;
            var state = snapshot.ToHostState();
            var ownership = snapshot.IsRoot ? snapshot.ReadOwnership(null) : Ownership.None;
            foreach (var vip in Core.Planning.VipListing.List(state, All.IsPresent || !snapshot.IsRoot, ownership))
            {
                if ((filter is null || filter.Contains(vip.Address)) && (interfaceName is null || vip.InterfaceName == interfaceName))
                {
                    // Like Invoke-Command's output: the host each VIP is on.
                    var o = PSObject.AsPSObject(vip);
                    o.Properties.Add(new PSNoteProperty("PSComputerName", outcome.Item.HostName));
                    WriteObject(o);
                }
            }
        }
    }
}

using System.Collections;
using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Remoting;

namespace LvsDirect.Commands;

/// <summary>
/// Get-LvsVip -HostName: the VIPs of many real servers, each with PSComputerName. Over PowerShell remoting (the
/// default) Get-LvsVip runs on each host; over -Transport Ssh one agentless session per host reads its state and
/// the VIPs are worked out here.
/// </summary>
public sealed partial class GetLvsVipCommand
{
    private const string LocalSet = "Local";
    private const string HostSet = "HostName";

    private static readonly ConnectionSets Sets = new([HostSet], [HostSet]);

    /// <summary>Real servers to list.</summary>
    [Parameter(Mandatory = true, ParameterSetName = HostSet)]
    [Alias("ComputerName")]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    private protected override ConnectionSets ConnectionSets => Sets;

    private void ListRemote(HashSet<IPAddress>? filter)
    {
        var hosts = HostName.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (Transport == LvsTransport.PowerShell)
        {
            ListOverRemoting(hosts);
            return;
        }

        var targets = hosts.Select(Connection.Target).ToList();
        var interfaceName = Optional(InterfaceName);
        var channel = new AgentlessChannel();
        ForEachHost(ProgressActivityId + 4, targets, t => t.HostName, ThrottleLimit, (t, ct) => channel.Run(t, AgentlessDiagnosis.OwnershipFiles(null), _ => null, ct).Snapshot!, outcome =>
        {
            if (outcome.Error is { } error)
            {
                WriteHostFailure(HostFailure.FromException(outcome.Item.HostName, error), error);
                return;
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
        });
    }

    /// <summary>Get-LvsVip run on each host (the module is copied there when missing); its VIPs come back with PSComputerName.</summary>
    private void ListOverRemoting(IReadOnlyList<string> hosts)
    {
        var parameters = new Hashtable();
        if (Address is not null)
        {
            parameters[nameof(Address)] = Address;
        }

        if (Optional(InterfaceName) is { } interfaceName)
        {
            parameters[nameof(InterfaceName)] = interfaceName;
        }

        if (All.IsPresent)
        {
            parameters[nameof(All)] = true;
        }

        var work = hosts.Select(h => new RemoteWork(Connection.RemoteTarget(h), new RemoteInvocation("Get-LvsVip", parameters))).ToList();
        ForEachRemoteHost(ProgressActivityId + 4, Connection.Runner(), work, r =>
        {
            foreach (var o in r.Output)
            {
                WriteObject(o);
            }

            if (r.Failure is not null)
            {
                WriteHostFailure(HostFailure.FromResult(r)!, r.Failure);
                return;
            }

            foreach (var e in r.Errors)
            {
                WriteHostFailure(HostFailure.FromRemoteError(r.ComputerName, e), e.Exception);
            }
        });
    }
}

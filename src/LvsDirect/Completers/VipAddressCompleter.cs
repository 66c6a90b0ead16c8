using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Net.Sockets;
using LvsDirect.Core.Host;

namespace LvsDirect.Completers;

/// <summary>
/// Completes -Address/-VirtualIP with the VIPs configured now. As root those are the addresses the ARP rules
/// protect (the same definition Get-LvsVip uses, so a VIP whose address is already gone but whose suppression
/// is left still completes). Without root the rules cannot be read, so every IPv4 address that is not an
/// interface's own is offered: secondary ones and the /32s VIPs usually are (which the kernel does not flag
/// secondary unless they fall inside a primary's subnet).
/// </summary>
public sealed class VipAddressCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        // A completer that throws breaks tab completion for the whole command line: no candidates instead.
        try
        {
            return CompletionFilter.Filter(Candidates(), wordToComplete).ToList();
        }
        catch (Exception)
        {
            return [];
        }
    }

    private static IEnumerable<(string Value, string ToolTip)> Candidates()
    {
        using var timeout = new CancellationTokenSource(CompletionFilter.ReadTimeout);
        var isRoot = LvsCmdlet.IsRoot();
        var state = new HostInspector(LvsCmdlet.RunnerFactory()).Read(includeArpRules: isRoot, timeout.Token);
        if (isRoot)
        {
            return state.SuppressedAddresses().Select(vip =>
            {
                var on = string.Join(", ", state.FindAddress(vip).Select(a => a.InterfaceName).Distinct());
                return (vip.ToString(), $"{vip}: ARP suppressed, {(on.Length > 0 ? "on " + on : "on no interface")}");
            }).ToList();
        }

        return state.Interfaces.SelectMany(i => i.Addresses
            .Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork && a.Scope != "host" && !a.Address.Equals(i.PrimaryIPv4))
            .Select(a => (a.Address.ToString(), $"{a.Cidr} on {i.Name}"))).ToList();
    }
}

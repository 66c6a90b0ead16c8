using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Completers;

/// <summary>Completes -InterfaceName with the interfaces the host has now, in the kernel's order.</summary>
public sealed class InterfaceNameCompleter : IArgumentCompleter
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
            using var timeout = new CancellationTokenSource(CompletionFilter.ReadTimeout);
            var state = new HostInspector(LvsCmdlet.RunnerFactory()).Read(includeArpRules: false, timeout.Token);
            return CompletionFilter.Filter(state.Interfaces.Select(i => (i.Name, ToolTip(i))), wordToComplete).ToList();
        }
        catch (Exception)
        {
            return [];
        }
    }

    private static string ToolTip(NetInterface i)
    {
        var addresses = string.Join(", ", i.Addresses.Where(a => a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Select(a => a.Cidr));
        return $"{i.Name} ({(i.IsUp ? "up" : "down")}{(addresses.Length > 0 ? ", " + addresses : string.Empty)})";
    }
}

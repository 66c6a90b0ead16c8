using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Planning;

/// <summary>Fills in what the user left out (interface, real IP) from the host's state, the way the seed does by hand.</summary>
public static class Resolve
{
    /// <summary>The given interface (which must exist), or the one of the default route.</summary>
    public static NetInterface Interface(HostState state, string? interfaceName) =>
        state.RequireInterface(string.IsNullOrEmpty(interfaceName) ? state.DefaultInterfaceName : interfaceName);

    /// <summary>
    /// The address outgoing ARP for the VIP is rewritten to: the one given, else the primary IPv4 address of
    /// the interface that holds the VIP, else of the given interface, else of the default route's interface.
    /// </summary>
    public static IPAddress RealIP(HostState state, IPAddress vip, string? interfaceName, string? realIp)
    {
        if (!string.IsNullOrEmpty(realIp))
        {
            return InputValidation.ParseIPv4(realIp, "real IP");
        }

        var holder = string.IsNullOrEmpty(interfaceName)
            ? state.FindAddress(vip).FirstOrDefault()?.InterfaceName
            : null;
        var iface = Interface(state, holder ?? interfaceName);
        return iface.PrimaryIPv4
               ?? throw new LvsException(LvsErrorKind.InvalidArgument,
                   $"Interface {iface.Name} has no IPv4 address of its own to rewrite outgoing ARP for {vip} to; give -RealIP.",
                   iface.Name);
    }
}

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
    /// The suppression of <paramref name="vip"/>: outgoing ARP for it leaves by the interface that holds it (lo
    /// aside) when no interface is given, else by the given interface, else by the default route's; it is rewritten to
    /// <paramref name="realIp"/> when given (the planner checks it is that interface's own), else to that
    /// interface's primary IPv4 address.
    /// </summary>
    public static SuppressionRequest Suppression(HostState state, IPAddress vip, string? interfaceName, string? realIp)
    {
        // ARP for a VIP on lo leaves by the interface facing the network, not by lo.
        var holder = string.IsNullOrEmpty(interfaceName)
            ? state.FindAddress(vip).FirstOrDefault(a => a.InterfaceName != HostState.LoopbackInterface)?.InterfaceName
            : null;
        var iface = Interface(state, holder ?? interfaceName);
        var real = !string.IsNullOrEmpty(realIp)
            ? InputValidation.ParseIPv4(realIp, "real IP")
            : iface.PrimaryIPv4
              ?? throw new LvsException(LvsErrorKind.InvalidArgument,
                  $"Interface {iface.Name} has no IPv4 address of its own to rewrite outgoing ARP for {vip} to; give -RealIP.",
                  iface.Name);
        return new SuppressionRequest(vip, real, iface.Name);
    }
}

using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>There is a default route, and it is not the director: LVS-DR replies go to clients through the host's own router.</summary>
public sealed class DefaultGatewayCheck : HostCheck
{
    public override string Name => CheckNames.DefaultGateway;

    public override HostReads Reads => HostReads.Addresses;

    protected override RealServerCheck Check(CheckContext d)
    {
        var routes = d.Snapshot.State.DefaultRoutes;
        var director = d.Request.DirectorAddress;
        if (routes.Count == 0)
        {
            return d.Result(Name, "default", CheckStatus.Fail,
                "There is no default route: replies to clients outside the local subnets have no way out.",
                "ip route add default via <your router> (not the director)");
        }

        var list = string.Join(", ", routes.Select(r => r.Gateway is null ? $"dev {r.InterfaceName}" : $"{r.Gateway} dev {r.InterfaceName}"));
        if (director is not null && routes.Any(r => director.Equals(r.Gateway)))
        {
            return d.Result(Name, "default", CheckStatus.Fail,
                $"The default gateway is the director {director}: LVS-DR replies must go to the clients through this host's own router, not back through the director.",
                $"ip route replace default via <your router> dev {routes[0].InterfaceName}");
        }

        return d.Result(Name, "default", CheckStatus.Pass,
            director is null
                ? $"Default route via {list} (give -DirectorAddress to check it is not the director)."
                : $"Default route via {list}, not the director {director}.");
    }
}

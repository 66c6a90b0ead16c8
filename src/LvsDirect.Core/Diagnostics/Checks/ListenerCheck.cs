using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>Something accepts the service's connections on VIP:port (or on every address).</summary>
public sealed class ListenerCheck : IRealServerCheck
{
    public string Name => CheckNames.Listener;

    public HostReads Reads => HostReads.Listeners;

    public IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject)
    {
        if (subject is not ServiceSubject { Service: var service })
        {
            yield break;
        }

        var target = service.ToString();
        if (context.Snapshot.Listeners is null || service.Protocol is not ("tcp" or "udp"))
        {
            yield return context.Result(Name, target, CheckStatus.Warning, $"Listening sockets for {service.Protocol} are not checked.", null);
            yield break;
        }

        var sockets = context.Snapshot.Listeners.Where(l => l.Accepts(service.Protocol, service.VirtualIP, service.Port)).ToList();
        yield return context.Result(Name, target, sockets.Count > 0 ? CheckStatus.Pass : CheckStatus.Fail,
            sockets.Count > 0
                ? $"{string.Join(", ", sockets.Select(l => l.LocalText).Distinct())} accepts {service.Protocol} connections for {service.VirtualIP}:{service.Port}."
                : $"Nothing listens on {service.VirtualIP}:{service.Port}/{service.Protocol} (nor on 0.0.0.0:{service.Port}): the director's connections are refused.",
            sockets.Count > 0 ? null : $"Start the service bound to {service.VirtualIP}:{service.Port} or 0.0.0.0:{service.Port} (LvsDirect does not manage services)");
    }
}

using System.Net;

namespace LvsDirect.Core.Diagnostics;

/// <summary>A listening TCP socket or bound UDP socket; Address null means every address (0.0.0.0, [::], *).</summary>
public sealed record ListeningSocket(string Protocol, IPAddress? Address, int Port, string LocalText)
{
    /// <summary>True when a packet for <paramref name="vip"/>:<paramref name="port"/> reaches this socket.</summary>
    public bool Accepts(string protocol, IPAddress vip, int port) =>
        string.Equals(Protocol, protocol, StringComparison.OrdinalIgnoreCase) && Port == port
        && (Address is null || Address.Equals(vip) || (Address.IsIPv4MappedToIPv6 && Address.MapToIPv4().Equals(vip)));

    public static Tools.ToolCommand ListCommand { get; } = Tools.ToolCommand.Create("ss", "-H", "-l", "-n", "-t", "-u");

    /// <summary>
    /// Parses `ss -H -l -n -t -u`: "tcp LISTEN 0 128 0.0.0.0:80 0.0.0.0:*", "udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*",
    /// "tcp LISTEN 0 4096 [::]:22 [::]:*", "tcp LISTEN 0 5 *:8080 *:*". Lines it cannot read are skipped.
    /// </summary>
    public static IReadOnlyList<ListeningSocket> ParseSs(string text)
    {
        var result = new List<ListeningSocket>();
        foreach (var raw in text.Split('\n'))
        {
            var f = raw.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5 || f[0] is not ("tcp" or "udp"))
            {
                continue;
            }

            var local = f[4];
            var colon = local.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(local[(colon + 1)..], out var port))
            {
                continue;
            }

            var host = local[..colon];
            var percent = host.IndexOf('%');
            if (percent >= 0)
            {
                host = host[..percent];
            }

            host = host.Trim('[', ']');
            IPAddress? address;
            if (host is "*" or "0.0.0.0" or "::")
            {
                address = null;
            }
            else if (!IPAddress.TryParse(host, out address))
            {
                continue;
            }

            result.Add(new ListeningSocket(f[0], address, port, local));
        }

        return result;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Config;

/// <summary>Value parsing shared by the config parsers; every failure names the file and line.</summary>
internal static class ConfigSyntax
{
    public static LvsException Error(string file, int line, string message) =>
        new(LvsErrorKind.ParseError, $"{file} line {line}: {message}", $"{file}:{line}");

    public static IPAddress Address(string text, string file, int line)
    {
        // IPAddress.TryParse accepts "10.1" and "1"; a config address must be written out in full.
        if (IPAddress.TryParse(text, out var address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 ? text.Contains(':') : text.Count(c => c == '.') == 3))
        {
            return address;
        }

        throw Error(file, line, $"'{text}' is not an IP address.");
    }

    public static int Port(string text, string file, int line) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535
            ? port
            : throw Error(file, line, $"'{text}' is not a port number.");

    public static int Number(string text, string what, string file, int line) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Error(file, line, $"'{text}' is not a valid {what}.");

    public static string Protocol(string text, string file, int line) => text.ToLowerInvariant() switch
    {
        "tcp" or "udp" or "sctp" => text.ToLowerInvariant(),
        _ => throw Error(file, line, $"'{text}' is not a protocol (TCP, UDP or SCTP)."),
    };

    public static LvsForwardingMethod Method(string text, string file, int line) => text.ToLowerInvariant() switch
    {
        "dr" or "direct" or "route" or "gatewaying" => LvsForwardingMethod.Direct,
        "nat" or "masq" or "masquerading" => LvsForwardingMethod.Nat,
        "tun" or "tunnel" or "ipip" => LvsForwardingMethod.Tunnel,
        _ => throw Error(file, line, $"'{text}' is not a forwarding method (DR, NAT or TUN)."),
    };

    /// <summary>"192.0.2.100:80" or "[2001:db8::1]:80".</summary>
    public static (IPAddress Address, int Port) Endpoint(string text, string file, int line)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            throw Error(file, line, $"'{text}' is not an address:port.");
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return (Address(host, file, line), Port(text[(colon + 1)..], file, line));
    }
}

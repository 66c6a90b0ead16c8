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

    /// <summary>A warning that names the file and line, in the one form Import-LvsConfig writes them.</summary>
    public static string Warning(string file, int line, string message) => $"{file} line {line}: {message}";

    /// <summary>The warning for a service (or real server) a DR real server has no part in.</summary>
    public static string Skipped(string what, string file, int line, string why) => $"Skipped: {what} in {file} line {line}: {why}.";

    public static IPAddress Address(string text, string file, int line)
    {
        var (address, zone) = ZonedAddress(text, file, line);
        return zone is null ? address : throw Error(file, line, $"'{text}' has a zone (%{zone}), which is not allowed here.");
    }

    /// <summary>
    /// An address with an optional IPv6 zone ("fe80::1%eth0"). The zone is kept as written: IPAddress would turn an
    /// interface name into this host's index for it (or drop it), but it names an interface of the director.
    /// </summary>
    public static (IPAddress Address, string? Zone) ZonedAddress(string text, string file, int line)
    {
        var percent = text.IndexOf('%');
        var bare = percent < 0 ? text : text[..percent];
        var zone = percent < 0 ? null : text[(percent + 1)..];

        // IPAddress.TryParse accepts "10.1" and "1"; a config address must be written out in full.
        if (IPAddress.TryParse(bare, out var address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 ? bare.Contains(':') : bare.Count(c => c == '.') == 3)
            && (zone is null || (zone.Length > 0 && address.AddressFamily == AddressFamily.InterNetworkV6)))
        {
            return (address, zone);
        }

        throw Error(file, line, $"'{text}' is not an IP address.");
    }

    public static bool IsNumber(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);

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

    /// <summary>"192.0.2.100:80", "[2001:db8::1]:80" or "[fe80::1%eth0]:80".</summary>
    public static (IPAddress Address, string? Zone, int Port) Endpoint(string text, string file, int line)
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

        var (address, zone) = ZonedAddress(host, file, line);
        return (address, zone, Port(text[(colon + 1)..], file, line));
    }
}

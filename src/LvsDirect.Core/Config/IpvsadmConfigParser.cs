using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Config;

/// <summary>
/// Reads the IPVS table as ipvsadm prints it: the rules of ipvsadm-save -n ("-A -t VIP:PORT -s wlc",
/// "-a -t VIP:PORT -r RIP:PORT -g -w 1") or the listing of ipvsadm -Ln ("TCP  VIP:PORT wlc",
/// "  -> RIP:PORT  Route  1  0  0"). ipvsadm sets the forwarding method per real server. A token ipvsadm -R
/// would refuse is an error, and so are the listings that cannot be read back: --stats and --rate output (no
/// forwarding methods) and output made without -n (host and service names).
/// </summary>
public static partial class IpvsadmConfigParser
{
    private sealed class Pending(string key, string protocol, System.Net.IPAddress? address, string? zone, int port, int? mark, string? scheduler, int line)
    {
        public string? Zone { get; } = zone;

        public string Key { get; } = key;

        public string Protocol { get; } = protocol;

        public System.Net.IPAddress? Address { get; } = address;

        public int Port { get; } = port;

        public int? Mark { get; } = mark;

        public string? Scheduler { get; set; } = scheduler;

        public int Line { get; } = line;

        public List<LvsRealServerEntry> Servers { get; } = [];
    }

    [GeneratedRegex(@"^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)", RegexOptions.IgnoreCase)]
    private static partial Regex ListingService();

    [GeneratedRegex(@"^->\s+(\S+)\s+(\S+)\s+(\d+)")]
    private static partial Regex ListingServer();

    /// <summary>True when the text looks like ipvsadm output (either form).</summary>
    internal static bool Looks(string text) =>
        text.Split('\n').Select(l => l.Trim()).Any(l =>
            l.StartsWith("-A ", StringComparison.Ordinal) || l.StartsWith("IP Virtual Server version", StringComparison.Ordinal)
            || (ListingService().IsMatch(l) && !l.Contains('{')));

    public static IReadOnlyList<LvsVirtualService> Parse(string text, string sourceFile)
    {
        var services = new List<Pending>();
        var byKey = new Dictionary<string, Pending>(StringComparer.Ordinal);
        Pending? current = null;
        var lines = text.Split('\n');
        for (var n = 1; n <= lines.Length; n++)
        {
            var line = lines[n - 1].Trim();
            if (line.StartsWith("Prot ", StringComparison.Ordinal) && StatsKind(line) is { } header)
            {
                throw NotRestorable(sourceFile, n, header);
            }

            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("IP Virtual Server", StringComparison.Ordinal)
                || line.StartsWith("Prot ", StringComparison.Ordinal) || line.StartsWith("-> RemoteAddress", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.StartsWith('-') && !line.StartsWith("->", StringComparison.Ordinal))
            {
                SaveRule(line, sourceFile, n, services, byKey);
                continue;
            }

            if (ListingServer().Match(line) is { Success: true } rs)
            {
                if (current is null)
                {
                    throw ConfigSyntax.Error(sourceFile, n, "a real server line before any service line.");
                }

                if (ConfigSyntax.IsNumber(rs.Groups[2].Value))
                {
                    throw NotRestorable(sourceFile, n, "--stats or --rate");
                }

                var (address, zone, port) = Endpoint(rs.Groups[1].Value, sourceFile, n);
                current.Servers.Add(new LvsRealServerEntry
                {
                    Address = address,
                    Zone = zone,
                    Port = port,
                    Weight = ConfigSyntax.Number(rs.Groups[3].Value, "weight", sourceFile, n),
                    ForwardingMethod = ListingMethod(rs.Groups[2].Value, sourceFile, n),
                });
                continue;
            }

            if (ListingService().Match(line) is { Success: true } vs)
            {
                current = NewService(vs.Groups[1].Value.ToLowerInvariant() switch { "fwm" => "-f", "udp" => "-u", "sctp" => "--sctp-service", _ => "-t" },
                    vs.Groups[2].Value, vs.Groups[3].Value, sourceFile, n);
                services.Add(current);
                continue;
            }

            throw ConfigSyntax.Error(sourceFile, n, $"not an ipvsadm line: '{line}'.");
        }

        return services.Select(s => new LvsVirtualService
        {
            Address = s.Address,
            Zone = s.Zone,
            Port = s.Port,
            Protocol = s.Protocol,
            Scheduler = s.Scheduler,
            ForwardingMethod = s.Servers.Count == 0 || s.Servers.Any(r => r.ForwardingMethod == LvsForwardingMethod.Direct)
                ? LvsForwardingMethod.Direct
                : s.Servers[0].ForwardingMethod,
            FirewallMark = s.Mark,
            SourceFile = sourceFile,
            SourceLine = s.Line,
            RealServers = s.Servers,
        }).ToList();
    }

    private static LvsForwardingMethod ListingMethod(string text, string file, int line) => text switch
    {
        // "Local" is a real server on the director itself: it answers for the VIP like a DR real server.
        "Route" or "Local" => LvsForwardingMethod.Direct,
        "Masq" => LvsForwardingMethod.Nat,
        "Tunnel" => LvsForwardingMethod.Tunnel,
        _ => throw ConfigSyntax.Error(file, line, $"'{text}' is not a forwarding method ipvsadm knows (Route, Masq, Tunnel or Local); " +
                                                  "full NAT (dpvs, Alibaba's LVS) has no ipvsadm form, and its real servers need no VIP."),
    };

    /// <summary>"--stats" or "--rate" when a listing header shows counters instead of the forwarding method.</summary>
    private static string? StatsKind(string header) =>
        header.Contains("Conns", StringComparison.Ordinal) ? "--stats"
        : header.Contains("CPS", StringComparison.Ordinal) ? "--rate"
        : null;

    private static LvsException NotRestorable(string file, int line, string option) =>
        ConfigSyntax.Error(file, line, $"this is ipvsadm {option} output, which shows counters instead of each real server's forwarding method; " +
                                       "save the table with ipvsadm -Sn (or list it with ipvsadm -Ln) and read that.");

    /// <summary>An address:port, or the error that says the output was made without -n.</summary>
    private static (System.Net.IPAddress Address, string? Zone, int Port) Endpoint(string text, string file, int line)
    {
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon].Trim('[', ']') : text;
        var port = colon > 0 ? text[(colon + 1)..] : string.Empty;
        if ((port.Length > 0 && !ConfigSyntax.IsNumber(port))
            || (!System.Net.IPAddress.TryParse(host.Split('%')[0], out _) && host.Any(char.IsAsciiLetter)))
        {
            throw ConfigSyntax.Error(file, line, $"'{text}' is a name, not an address:port: this output was made without -n; " +
                                                 "use ipvsadm -Sn (or ipvsadm -Ln), which print numbers ipvsadm -R reads back.");
        }

        return ConfigSyntax.Endpoint(text, file, line);
    }

    private static Pending NewService(string kindOption, string endpoint, string? scheduler, string file, int line)
    {
        if (kindOption == "-f")
        {
            var mark = ConfigSyntax.Number(endpoint, "firewall mark", file, line);
            return new Pending($"f{mark}", "tcp", null, null, 0, mark, scheduler, line);
        }

        var protocol = kindOption switch { "-u" => "udp", "--sctp-service" => "sctp", _ => "tcp" };
        var (address, zone, port) = Endpoint(endpoint, file, line);
        return new Pending($"{protocol} {LvsVirtualService.Endpoint(address, zone, port)}", protocol, address, zone, port, null, scheduler, line);
    }

    /// <summary>
    /// One ipvsadm -R line (ipvsadm(8)): -A/-E a service, -a/-e a real server, -D/-d deletes them, -C clears the
    /// table. Every other token is an error, because ipvsadm -R refuses the line: "(null)" in particular is what
    /// ipvsadm-save prints for a forwarding method it does not know (full NAT), which must not become direct routing.
    /// </summary>
    private static void SaveRule(string line, string file, int n, List<Pending> services, Dictionary<string, Pending> byKey)
    {
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        string? command = null, kind = null, endpoint = null, scheduler = null, real = null;
        var weight = 1;
        var method = LvsForwardingMethod.Direct;
        for (var i = 0; i < words.Length; i++)
        {
            string Value() => i + 1 < words.Length ? words[++i] : throw ConfigSyntax.Error(file, n, $"{words[i]} needs a value.");
            switch (words[i])
            {
                case "-A" or "--add-service":
                    command = "A";
                    break;
                case "-E" or "--edit-service":
                    command = "E";
                    break;
                case "-a" or "--add-server" or "-e" or "--edit-server":
                    command = "a";
                    break;
                case "-D" or "--delete-service":
                    command = "D";
                    break;
                case "-d" or "--delete-server":
                    command = "d";
                    break;
                case "-C" or "--clear":
                    command = "C";
                    break;
                case "-t" or "--tcp-service" or "-u" or "--udp-service" or "-f" or "--fwmark-service" or "--sctp-service":
                    kind = words[i] switch { "--tcp-service" => "-t", "--udp-service" => "-u", "--fwmark-service" => "-f", var k => k };
                    endpoint = Value();
                    break;
                case "-s" or "--scheduler":
                    scheduler = Value();
                    break;
                case "-r" or "--real-server":
                    real = Value();
                    break;
                case "-w" or "--weight":
                    weight = ConfigSyntax.Number(Value(), "weight", file, n);
                    break;
                case "-g" or "--gatewaying":
                    method = LvsForwardingMethod.Direct;
                    break;
                case "-m" or "--masquerading":
                    method = LvsForwardingMethod.Nat;
                    break;
                case "-i" or "--ipip":
                    method = LvsForwardingMethod.Tunnel;
                    break;
                case "-p" or "--persistent":
                    // The timeout is optional: ipvsadm takes the next word only when it is not an option.
                    if (i + 1 < words.Length && !words[i + 1].StartsWith('-'))
                    {
                        i++;
                    }

                    break;
                case "-M" or "--netmask" or "-b" or "--sched-flags" or "-x" or "--u-threshold" or "-y" or "--l-threshold"
                    or "--pe" or "--tun-type" or "--tun-port":
                    // Values the real servers do not need.
                    Value();
                    break;
                case "-6" or "--ipv6" or "-o" or "--ops" or "--tun-nocsum" or "--tun-csum" or "--tun-remcsum":
                    break;
                case "(null)":
                    throw ConfigSyntax.Error(file, n, "'(null)' stands where the forwarding method belongs: ipvsadm-save prints it for a method it does not know " +
                                                      "(full NAT of dpvs or Alibaba's LVS), and ipvsadm -R refuses this line. Full-NAT real servers need no VIP; remove the line.");
                default:
                    throw ConfigSyntax.Error(file, n, $"'{words[i]}' is not an ipvsadm option (ipvsadm -R refuses this line): '{line}'.");
            }
        }

        if (command == "C")
        {
            services.Clear();
            byKey.Clear();
            return;
        }

        if (command is null || kind is null || endpoint is null)
        {
            throw ConfigSyntax.Error(file, n, $"not an ipvsadm-save rule: '{line}'.");
        }

        var service = NewService(kind, endpoint, scheduler, file, n);
        switch (command)
        {
            case "A":
                if (!byKey.ContainsKey(service.Key))
                {
                    byKey[service.Key] = service;
                    services.Add(service);
                }

                return;
            case "E":
                if (byKey.TryGetValue(service.Key, out var edited))
                {
                    edited.Scheduler = scheduler ?? edited.Scheduler;
                    return;
                }

                throw ConfigSyntax.Error(file, n, $"-E edits {endpoint}, which no -A line defines.");
            case "D":
                if (byKey.Remove(service.Key, out var gone))
                {
                    services.Remove(gone);
                }

                return;
        }

        if (real is null)
        {
            throw ConfigSyntax.Error(file, n, $"{words[0]} without -r names no real server.");
        }

        if (!byKey.TryGetValue(service.Key, out var owner))
        {
            throw ConfigSyntax.Error(file, n, $"real server for {endpoint}, which no -A line defines.");
        }

        // ipvsadm-save omits the port of a real server when it equals the service's ("-r 192.0.2.11").
        System.Net.IPAddress address;
        string? zone;
        int port;
        if (real.Contains(':') && (real.StartsWith('[') || real.Count(c => c == ':') == 1))
        {
            (address, zone, port) = Endpoint(real, file, n);
        }
        else
        {
            (address, zone) = ConfigSyntax.ZonedAddress(real.Trim('[', ']'), file, n);
            port = owner.Port;
        }

        owner.Servers.RemoveAll(r => r.Address.Equals(address) && r.Port == port);
        if (command == "a")
        {
            owner.Servers.Add(new LvsRealServerEntry { Address = address, Zone = zone, Port = port, Weight = weight, ForwardingMethod = method });
        }
    }
}

using System.Text.RegularExpressions;

namespace LvsDirect.Core.Config;

/// <summary>
/// Reads the IPVS table as ipvsadm prints it: the rules of ipvsadm-save -n ("-A -t VIP:PORT -s wlc",
/// "-a -t VIP:PORT -r RIP:PORT -g -w 1") or the listing of ipvsadm -Ln ("TCP  VIP:PORT wlc",
/// "  -> RIP:PORT  Route  1  0  0"). ipvsadm sets the forwarding method per real server.
/// </summary>
public static partial class IpvsadmConfigParser
{
    private sealed class Pending(string key, string protocol, System.Net.IPAddress? address, int port, int? mark, string? scheduler, int line)
    {
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

    [GeneratedRegex(@"^->\s+(\S+)\s+(\w+)\s+(\d+)")]
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

                var (address, port) = ConfigSyntax.Endpoint(rs.Groups[1].Value, sourceFile, n);
                current.Servers.Add(new LvsRealServerEntry
                {
                    Address = address,
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
        _ => throw ConfigSyntax.Error(file, line, $"'{text}' is not a forwarding method (Route, Masq or Tunnel)."),
    };

    private static Pending NewService(string kindOption, string endpoint, string? scheduler, string file, int line)
    {
        if (kindOption == "-f")
        {
            var mark = ConfigSyntax.Number(endpoint, "firewall mark", file, line);
            return new Pending($"f{mark}", "tcp", null, 0, mark, scheduler, line);
        }

        var protocol = kindOption switch { "-u" => "udp", "--sctp-service" => "sctp", _ => "tcp" };
        var (address, port) = ConfigSyntax.Endpoint(endpoint, file, line);
        return new Pending($"{protocol} {LvsVirtualService.Endpoint(address, port)}", protocol, address, port, null, scheduler, line);
    }

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
                case "-a" or "--add-server":
                    command = "a";
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
                case "-p" or "--persistent" or "-M" or "--netmask" or "-b" or "--sched-flags" or "-x" or "--u-threshold" or "-y" or "--l-threshold" or "--pe" or "-j" or "--tun-type" or "--tun-port":
                    // Options that take a value the real servers do not need; -p may stand alone (default timeout).
                    if (i + 1 < words.Length && !words[i + 1].StartsWith('-'))
                    {
                        i++;
                    }

                    break;
            }
        }

        if (command is null || kind is null || endpoint is null)
        {
            throw ConfigSyntax.Error(file, n, $"not an ipvsadm-save rule: '{line}'.");
        }

        var service = NewService(kind, endpoint, scheduler, file, n);
        if (command == "A")
        {
            if (!byKey.ContainsKey(service.Key))
            {
                byKey[service.Key] = service;
                services.Add(service);
            }

            return;
        }

        if (real is null)
        {
            throw ConfigSyntax.Error(file, n, "-a without -r names no real server.");
        }

        if (!byKey.TryGetValue(service.Key, out var owner))
        {
            throw ConfigSyntax.Error(file, n, $"real server for {endpoint}, which no -A line defines.");
        }

        // ipvsadm-save omits the port of a real server when it equals the service's ("-r 192.0.2.11").
        var (address, port) = real.Contains(':') && (real.StartsWith('[') || real.Count(c => c == ':') == 1)
            ? ConfigSyntax.Endpoint(real, file, n)
            : (ConfigSyntax.Address(real.Trim('[', ']'), file, n), owner.Port);
        owner.Servers.Add(new LvsRealServerEntry { Address = address, Port = port, Weight = weight, ForwardingMethod = method });
    }
}

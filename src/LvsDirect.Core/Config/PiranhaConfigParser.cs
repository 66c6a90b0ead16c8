namespace LvsDirect.Core.Config;

/// <summary>
/// Reads Piranha's lvs.cf (RHEL 5/6): "key = value" lines, "virtual NAME {" and "server NAME {" blocks, and a
/// top-level "network = direct|nat|tunnel" that sets the method of every service. Inactive services and servers
/// (active = 0) are left out: the director does not run them. Ports may be service names ("port = http", as in
/// Piranha's sample.cf), which Piranha resolves through /etc/services. Other keys (health checks, heartbeat and
/// director settings) do not decide which real server needs which VIP.
/// </summary>
public static class PiranhaConfigParser
{
    private sealed class Block(string kind, string name, int line)
    {
        public string Kind { get; } = kind;

        public string Name { get; } = name;

        public int Line { get; } = line;

        public Dictionary<string, (string Value, int Line)> Values { get; } = new(StringComparer.Ordinal);

        public List<Block> Servers { get; } = [];
    }

    public static IReadOnlyList<LvsVirtualService> Parse(string text, string sourceFile, LvsConfigOptions? options = null, ICollection<string>? warnings = null)
    {
        var services = new ServicesDatabase((options ?? new LvsConfigOptions()).ServicesPath);
        // Piranha's own default when lvs.cf does not say is NAT.
        var network = LvsForwardingMethod.Nat;
        var virtuals = new List<Block>();
        var stack = new Stack<Block>();
        var lines = text.Split('\n');
        for (var n = 1; n <= lines.Length; n++)
        {
            var line = StripComment(lines[n - 1]).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line == "}")
            {
                if (stack.Count == 0)
                {
                    throw ConfigSyntax.Error(sourceFile, n, "'}' closes no block.");
                }

                stack.Pop();
                continue;
            }

            if (line.EndsWith('{'))
            {
                var head = line[..^1].Trim().Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
                var kind = head.Length > 0 ? head[0] : string.Empty;
                var block = new Block(kind, head.Length > 1 ? head[1] : string.Empty, n);
                if (kind == "virtual" && stack.Count == 0)
                {
                    virtuals.Add(block);
                }
                else if (kind == "server" && stack.Count == 1 && stack.Peek().Kind == "virtual")
                {
                    stack.Peek().Servers.Add(block);
                }
                else if (!(kind == "failover" && stack.Count == 0))
                {
                    // failover blocks are Piranha's failover services, not LVS; anything else is no block lvs.cf has.
                    warnings?.Add(ConfigSyntax.Warning(sourceFile, n, $"'{kind}' block left out: lvs.cf has virtual blocks with server blocks in them (and failover blocks, which are not LVS)."));
                }

                stack.Push(block);
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq <= 0)
            {
                throw ConfigSyntax.Error(sourceFile, n, $"expected 'key = value', '{{' or '}}', found '{line}'.");
            }

            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim().Trim('"');
            if (stack.Count == 0)
            {
                if (key == "network")
                {
                    network = ConfigSyntax.Method(value, sourceFile, n);
                }
            }
            else
            {
                stack.Peek().Values[key] = (value, n);
            }
        }

        if (stack.Count > 0)
        {
            throw ConfigSyntax.Error(sourceFile, stack.Peek().Line, $"the block '{stack.Peek().Kind} {stack.Peek().Name}' is never closed.");
        }

        return virtuals.Where(IsActive).Select(v => Service(v, network, sourceFile, services)).ToList();
    }

    private static string StripComment(string line)
    {
        var hash = line.IndexOf('#');
        return hash < 0 ? line : line[..hash];
    }

    private static bool IsActive(Block b) => !b.Values.TryGetValue("active", out var a) || a.Value != "0";

    private static LvsVirtualService Service(Block v, LvsForwardingMethod network, string file, ServicesDatabase services)
    {
        int? mark = v.Values.TryGetValue("fwmark", out var fw) ? ConfigSyntax.Number(fw.Value, "firewall mark", file, fw.Line) : null;

        // A fwmark virtual still has its floating VIP, which the mark bundles ports of (Red Hat LVS Administration,
        // "Multi-port Services"): only a virtual with neither has none.
        System.Net.IPAddress? address = null;
        string? zone = null;
        if (v.Values.TryGetValue("address", out var a))
        {
            // "address = 192.0.2.100 eth0:1": the interface that carries the VIP on the director.
            (address, zone) = ConfigSyntax.ZonedAddress(a.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], file, a.Line);
        }
        else if (mark is null)
        {
            throw ConfigSyntax.Error(file, v.Line, $"virtual {v.Name} has no address.");
        }

        var protocol = v.Values.TryGetValue("protocol", out var pr) ? ConfigSyntax.Protocol(pr.Value, file, pr.Line) : "tcp";
        var port = v.Values.TryGetValue("port", out var p) ? services.Port(p.Value, protocol, file, p.Line) : 0;
        var servers = v.Servers.Where(IsActive).Select(s =>
        {
            if (!s.Values.TryGetValue("address", out var sa))
            {
                throw ConfigSyntax.Error(file, s.Line, $"server {s.Name} has no address.");
            }

            var (serverAddress, serverZone) = ConfigSyntax.ZonedAddress(sa.Value, file, sa.Line);
            return new LvsRealServerEntry
            {
                Address = serverAddress,
                Zone = serverZone,
                Port = s.Values.TryGetValue("port", out var sp) ? services.Port(sp.Value, protocol, file, sp.Line) : port,
                Weight = s.Values.TryGetValue("weight", out var w) ? ConfigSyntax.Number(w.Value, "weight", file, w.Line) : 1,
                ForwardingMethod = network,
            };
        }).ToList();

        return new LvsVirtualService
        {
            Address = address,
            Zone = zone,
            Port = port,
            Protocol = protocol,
            Scheduler = v.Values.TryGetValue("scheduler", out var sch) ? sch.Value : "wlc",
            ForwardingMethod = network,
            FirewallMark = mark,
            Name = v.Name,
            SourceFile = file,
            SourceLine = v.Line,
            RealServers = servers,
        };
    }

    /// <summary>services(5): "name port/protocol aliases... # comment", read once and only when a port is a name.</summary>
    private sealed class ServicesDatabase(string path)
    {
        private Dictionary<(string Name, string Protocol), int>? _ports;

        public int Port(string text, string protocol, string file, int line)
        {
            if (ConfigSyntax.IsNumber(text))
            {
                return ConfigSyntax.Port(text, file, line);
            }

            _ports ??= Load(file, line);
            return _ports.TryGetValue((text, protocol), out var port)
                ? port
                : throw ConfigSyntax.Error(file, line, $"'{text}' is neither a port number nor a {protocol} service name in {path}.");
        }

        private Dictionary<(string, string), int> Load(string file, int line)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw ConfigSyntax.Error(file, line, $"the port is a service name, but {path} cannot be read: {ex.Message}");
            }

            var ports = new Dictionary<(string, string), int>();
            foreach (var entry in lines)
            {
                var words = StripComment(entry).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var slash = words.Length >= 2 ? words[1].IndexOf('/') : -1;
                if (slash <= 0 || !int.TryParse(words[1][..slash], out var port) || port is < 0 or > 65535)
                {
                    continue;
                }

                var proto = words[1][(slash + 1)..].ToLowerInvariant();
                foreach (var name in words.Where((_, i) => i != 1))
                {
                    // The first entry wins, as getservbyname(3) returns the first match.
                    ports.TryAdd((name, proto), port);
                }
            }

            return ports;
        }
    }
}

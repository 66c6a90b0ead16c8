namespace LvsDirect.Core.Config;

/// <summary>
/// Reads Piranha's lvs.cf (RHEL 5/6): "key = value" lines, "virtual NAME {" and "server NAME {" blocks, and a
/// top-level "network = direct|nat|tunnel" that sets the method of every service. Inactive services and servers
/// (active = 0) are left out: the director does not run them.
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

    public static IReadOnlyList<LvsVirtualService> Parse(string text, string sourceFile)
    {
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

        return virtuals.Where(IsActive).Select(v => Service(v, network, sourceFile)).ToList();
    }

    private static string StripComment(string line)
    {
        var hash = line.IndexOf('#');
        return hash < 0 ? line : line[..hash];
    }

    private static bool IsActive(Block b) => !b.Values.TryGetValue("active", out var a) || a.Value != "0";

    private static LvsVirtualService Service(Block v, LvsForwardingMethod network, string file)
    {
        int? mark = v.Values.TryGetValue("fwmark", out var fw) ? ConfigSyntax.Number(fw.Value, "firewall mark", file, fw.Line) : null;
        System.Net.IPAddress? address = null;
        if (mark is null)
        {
            if (!v.Values.TryGetValue("address", out var a))
            {
                throw ConfigSyntax.Error(file, v.Line, $"virtual {v.Name} has no address.");
            }

            // "address = 192.0.2.100 eth0:1": the interface that carries the VIP on the director.
            address = ConfigSyntax.Address(a.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], file, a.Line);
        }

        var port = v.Values.TryGetValue("port", out var p) ? ConfigSyntax.Port(p.Value, file, p.Line) : 0;
        var protocol = v.Values.TryGetValue("protocol", out var pr) ? ConfigSyntax.Protocol(pr.Value, file, pr.Line) : "tcp";
        var servers = v.Servers.Where(IsActive).Select(s =>
        {
            if (!s.Values.TryGetValue("address", out var sa))
            {
                throw ConfigSyntax.Error(file, s.Line, $"server {s.Name} has no address.");
            }

            return new LvsRealServerEntry
            {
                Address = ConfigSyntax.Address(sa.Value, file, sa.Line),
                Port = s.Values.TryGetValue("port", out var sp) ? ConfigSyntax.Port(sp.Value, file, sp.Line) : port,
                Weight = s.Values.TryGetValue("weight", out var w) ? ConfigSyntax.Number(w.Value, "weight", file, w.Line) : 1,
                ForwardingMethod = network,
            };
        }).ToList();

        return new LvsVirtualService
        {
            Address = address,
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
}

using System.Net;
using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Config;

/// <summary>
/// Reads the LVS part of keepalived.conf: virtual_server (by address, fwmark or group), virtual_server_group and
/// include. Everything else (vrrp_instance, global_defs, checkers) is skipped as an opaque block.
/// </summary>
public static class KeepalivedConfigParser
{
    private sealed record Token(string Text, bool Quoted, string File, int Line);

    private sealed class Node(Token keyword, List<Token> args)
    {
        public Token Keyword { get; } = keyword;

        public List<Token> Args { get; } = args;

        public List<Node>? Children { get; set; }
    }

    private sealed record GroupMember(IPAddress? Address, int Port, int? FirewallMark);

    /// <summary>Reads a keepalived.conf and the files it includes.</summary>
    public static IReadOnlyList<LvsVirtualService> ParseFile(string path)
    {
        var fullPath = Path.GetFullPath(path);
        var tokens = new List<Token>();
        Tokenize(ReadFile(fullPath, fullPath, 0), fullPath, tokens, [fullPath]);
        return Interpret(Parse(tokens));
    }

    /// <summary>Reads keepalived.conf text; includes resolve relative to the folder of <paramref name="sourceFile"/>.</summary>
    public static IReadOnlyList<LvsVirtualService> Parse(string text, string sourceFile)
    {
        var tokens = new List<Token>();
        Tokenize(text, sourceFile, tokens, [Path.GetFullPath(sourceFile)]);
        return Interpret(Parse(tokens));
    }

    private static string ReadFile(string path, string fromFile, int fromLine)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw fromLine == 0
                ? new LvsException(LvsErrorKind.FileError, $"Cannot read {path}: {ex.Message}", path, ex)
                : ConfigSyntax.Error(fromFile, fromLine, $"cannot read the included file {path}: {ex.Message}");
        }
    }

    private static void Tokenize(string text, string file, List<Token> tokens, HashSet<string> includeStack)
    {
        var line = 1;
        var i = 0;
        var lineStart = true;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                i++;
                lineStart = true;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (c is '#' or '!')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (c is '{' or '}')
            {
                tokens.Add(new Token(c.ToString(), false, file, line));
                i++;
                lineStart = false;
                continue;
            }

            var word = new StringBuilder();
            var quoted = c == '"';
            if (quoted)
            {
                var startLine = line;
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\n')
                    {
                        line++;
                    }

                    word.Append(text[i++]);
                }

                if (i >= text.Length)
                {
                    throw ConfigSyntax.Error(file, startLine, "unterminated quoted string.");
                }

                i++;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}' or '#' or '!'))
                {
                    word.Append(text[i++]);
                }
            }

            var token = new Token(word.ToString(), quoted, file, line);
            if (lineStart && !quoted && token.Text == "include")
            {
                i = Include(text, i, file, line, tokens, includeStack);
                continue;
            }

            tokens.Add(token);
            lineStart = false;
        }
    }

    /// <summary>Splices the tokens of every file the include's glob matches in place of the include line.</summary>
    private static int Include(string text, int i, string file, int line, List<Token> tokens, HashSet<string> includeStack)
    {
        var end = text.IndexOf('\n', i);
        end = end < 0 ? text.Length : end;
        var pattern = text[i..end].Trim().Trim('"');
        if (pattern.Length == 0)
        {
            throw ConfigSyntax.Error(file, line, "include names no file.");
        }

        var baseDir = Path.GetDirectoryName(Path.GetFullPath(file)) ?? "/";
        var full = Path.GetFullPath(Path.Combine(baseDir, pattern));
        var dir = Path.GetDirectoryName(full) ?? "/";
        var namePattern = Path.GetFileName(full);
        var matches = Directory.Exists(dir)
            ? Directory.GetFiles(dir, namePattern).OrderBy(f => f, StringComparer.Ordinal).ToList()
            : [];
        if (matches.Count == 0 && !namePattern.Contains('*') && !namePattern.Contains('?'))
        {
            throw ConfigSyntax.Error(file, line, $"the included file {full} does not exist.");
        }

        foreach (var match in matches)
        {
            if (!includeStack.Add(match))
            {
                throw ConfigSyntax.Error(file, line, $"include cycle: {match} includes itself.");
            }

            Tokenize(ReadFile(match, file, line), match, tokens, includeStack);
            includeStack.Remove(match);
        }

        return end;
    }

    private static List<Node> Parse(List<Token> tokens)
    {
        var pos = 0;
        var nodes = ParseBlock(tokens, ref pos, null);
        return nodes;
    }

    private static List<Node> ParseBlock(List<Token> tokens, ref int pos, Token? opener)
    {
        var nodes = new List<Node>();
        while (pos < tokens.Count)
        {
            var t = tokens[pos];
            if (t.Text == "}" && !t.Quoted)
            {
                if (opener is null)
                {
                    throw ConfigSyntax.Error(t.File, t.Line, "'}' closes no block.");
                }

                pos++;
                return nodes;
            }

            if (t.Text == "{" && !t.Quoted)
            {
                // An anonymous block (keepalived allows them in some lists): keep its contents out of our way.
                pos++;
                ParseBlock(tokens, ref pos, t);
                continue;
            }

            pos++;
            var args = new List<Token>();
            while (pos < tokens.Count && tokens[pos].Line == t.Line && tokens[pos].File == t.File
                   && (tokens[pos].Quoted || tokens[pos].Text is not ("{" or "}")))
            {
                args.Add(tokens[pos++]);
            }

            var node = new Node(t, args);
            if (pos < tokens.Count && tokens[pos].Text == "{" && !tokens[pos].Quoted)
            {
                var open = tokens[pos++];
                node.Children = ParseBlock(tokens, ref pos, open);
            }

            nodes.Add(node);
        }

        if (opener is not null)
        {
            throw ConfigSyntax.Error(opener.File, opener.Line, "this '{' is never closed.");
        }

        return nodes;
    }

    private static IReadOnlyList<LvsVirtualService> Interpret(List<Node> top)
    {
        var groups = new Dictionary<string, List<GroupMember>>(StringComparer.Ordinal);
        foreach (var node in top.Where(n => n.Keyword.Text == "virtual_server_group"))
        {
            if (node.Args.Count != 1 || node.Children is null)
            {
                throw ConfigSyntax.Error(node.Keyword.File, node.Keyword.Line, "virtual_server_group needs a name and a block.");
            }

            groups[node.Args[0].Text] = node.Children.SelectMany(GroupMembers).ToList();
        }

        var services = new List<LvsVirtualService>();
        foreach (var node in top.Where(n => n.Keyword.Text == "virtual_server"))
        {
            services.AddRange(VirtualServer(node, groups));
        }

        return services;
    }

    private static IEnumerable<GroupMember> GroupMembers(Node entry)
    {
        var k = entry.Keyword;
        if (k.Text == "fwmark")
        {
            yield return new GroupMember(null, 0, ConfigSyntax.Number(Arg(entry, 0, "a mark"), "firewall mark", k.File, k.Line));
            yield break;
        }

        var port = entry.Args.Count > 0 ? ConfigSyntax.Port(entry.Args[0].Text, k.File, k.Line) : 0;
        foreach (var address in Range(k.Text, k.File, k.Line))
        {
            yield return new GroupMember(address, port, null);
        }
    }

    /// <summary>"192.0.2.1-10" is keepalived's range of the last IPv4 byte (last IPv6 group, in hex).</summary>
    private static IEnumerable<IPAddress> Range(string text, string file, int line)
    {
        var dash = text.LastIndexOf('-');
        if (dash < 0)
        {
            return [ConfigSyntax.Address(text, file, line)];
        }

        var first = ConfigSyntax.Address(text[..dash], file, line);
        var bytes = first.GetAddressBytes();
        var v6 = bytes.Length == 16;
        if (!int.TryParse(text[(dash + 1)..], v6 ? System.Globalization.NumberStyles.HexNumber : System.Globalization.NumberStyles.None, null, out var last))
        {
            throw ConfigSyntax.Error(file, line, $"'{text}' is not an address range.");
        }

        var start = v6 ? (bytes[14] << 8) | bytes[15] : bytes[3];
        if (last < start || last > (v6 ? 0xffff : 255))
        {
            throw ConfigSyntax.Error(file, line, $"'{text}' is not an address range.");
        }

        return Enumerable.Range(start, last - start + 1).Select(n =>
        {
            var b = (byte[])bytes.Clone();
            if (v6)
            {
                b[14] = (byte)(n >> 8);
                b[15] = (byte)n;
            }
            else
            {
                b[3] = (byte)n;
            }

            return new IPAddress(b);
        }).ToList();
    }

    private static string Arg(Node node, int index, string what) =>
        index < node.Args.Count
            ? node.Args[index].Text
            : throw ConfigSyntax.Error(node.Keyword.File, node.Keyword.Line, $"{node.Keyword.Text} needs {what}.");

    private static IEnumerable<LvsVirtualService> VirtualServer(Node node, Dictionary<string, List<GroupMember>> groups)
    {
        var k = node.Keyword;
        if (node.Children is null)
        {
            throw ConfigSyntax.Error(k.File, k.Line, "virtual_server needs a block.");
        }

        List<GroupMember> members;
        string? name = null;
        var first = Arg(node, 0, "an address, 'fwmark N' or 'group NAME'");
        if (first == "group")
        {
            name = Arg(node, 1, "a group name");
            if (!groups.TryGetValue(name, out members!))
            {
                throw ConfigSyntax.Error(k.File, k.Line, $"virtual_server_group '{name}' is not defined.");
            }
        }
        else if (first == "fwmark")
        {
            members = [new GroupMember(null, 0, ConfigSyntax.Number(Arg(node, 1, "a mark"), "firewall mark", k.File, k.Line))];
        }
        else
        {
            var port = node.Args.Count > 1 ? ConfigSyntax.Port(node.Args[1].Text, k.File, k.Line) : 0;
            members = [new GroupMember(ConfigSyntax.Address(first, k.File, k.Line), port, null)];
        }

        // keepalived's defaults when the block does not say: NAT, TCP, and the kernel's wlc.
        var method = LvsForwardingMethod.Nat;
        var protocol = "tcp";
        var scheduler = "wlc";
        var reals = new List<Node>();
        foreach (var child in node.Children)
        {
            var ck = child.Keyword;
            switch (ck.Text)
            {
                case "lb_kind":
                    method = ConfigSyntax.Method(Arg(child, 0, "DR, NAT or TUN"), ck.File, ck.Line);
                    break;
                case "lb_algo":
                    scheduler = Arg(child, 0, "a scheduler");
                    break;
                case "protocol":
                    protocol = ConfigSyntax.Protocol(Arg(child, 0, "TCP, UDP or SCTP"), ck.File, ck.Line);
                    break;
                case "real_server":
                    reals.Add(child);
                    break;
            }
        }

        foreach (var m in members)
        {
            var servers = reals.Select(r => RealServer(r, m.Port, method)).ToList();
            yield return new LvsVirtualService
            {
                Address = m.Address,
                Port = m.Port,
                Protocol = protocol,
                Scheduler = scheduler,
                ForwardingMethod = method,
                FirewallMark = m.FirewallMark,
                Name = name,
                SourceFile = k.File,
                SourceLine = k.Line,
                RealServers = servers,
            };
        }
    }

    private static LvsRealServerEntry RealServer(Node node, int servicePort, LvsForwardingMethod method)
    {
        var k = node.Keyword;
        var address = ConfigSyntax.Address(Arg(node, 0, "an address"), k.File, k.Line);
        var port = node.Args.Count > 1 ? ConfigSyntax.Port(node.Args[1].Text, k.File, k.Line) : servicePort;
        var weight = 1;
        foreach (var child in node.Children ?? [])
        {
            if (child.Keyword.Text == "weight")
            {
                weight = ConfigSyntax.Number(Arg(child, 0, "a number"), "weight", child.Keyword.File, child.Keyword.Line);
            }
        }

        return new LvsRealServerEntry { Address = address, Port = port, Weight = weight, ForwardingMethod = method };
    }
}

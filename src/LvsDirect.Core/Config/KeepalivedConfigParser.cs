using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Config;

/// <summary>
/// Reads the LVS part of keepalived.conf the way keepalived's own parser (lib/parser.c, check/check_parser.c,
/// check/check_data.c) reads it: conditional lines (@ID, @^ID), $NAME=VALUE definitions with $NAME and ${NAME}
/// substitution (multiline ones continued with '\'), include with globs, virtual_server (by address, fwmark or
/// group), virtual_server_group with every range form, per-real-server lvs_method and sorry_server. Blocks that
/// do not decide which real server needs which VIP (global_defs, vrrp_*, health checkers) are skipped; any
/// other keyword is reported as a warning, like keepalived's "Unknown keyword".
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

    private sealed record GroupMember(IPAddress? Address, string? Zone, int Port, int? FirewallMark);

    /// <summary>The method a lvs_method line sets, or null (keepalived then keeps what it had) with the reason.</summary>
    private sealed record MethodSetting(LvsForwardingMethod? Method, string? Note);

    /// <summary>Every address of a range becomes a VIP on every real server: a /8 by mistake must not become 16M.</summary>
    private const int MaxRangeAddresses = 65536;

    private static readonly HashSet<string> IncludeKeywords = ["include", "includer", "includem", "includew", "includeb", "includea"];

    // Top-level blocks and settings of keepalived.conf(5) that do not decide which real server needs which VIP.
    private static readonly HashSet<string> IgnoredTopLevel =
    [
        "global_defs", "linkbeat_interfaces", "interface_up_down_delays", "static_track_group", "static_ipaddress",
        "static_routes", "static_rules", "vrrp_sync_group", "vrrp_instance", "vrrp_script", "vrrp_track_file",
        "track_file", "vrrp_track_process", "track_process", "garp_group", "bfd_instance", "SSL", "net_namespace",
        "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir", "linkbeat_use_polling",
        "child_wait_time", "include_check",
    ];

    // virtual_server settings of keepalived.conf(5) that do not change which real server gets which VIP.
    private static readonly HashSet<string> IgnoredInVirtualServer =
    [
        "ip_family", "delay_loop", "delay_before_retry", "retry", "warmup", "connect_timeout", "inhibit_on_failure",
        "persistence_timeout", "persistence_granularity", "persistence_engine", "ha_suspend", "smtp_alert",
        "virtualhost", "alpha", "omega", "quorum", "quorum_up", "quorum_down", "hysteresis", "weight", "hashed", "ops",
        "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "sorry_server_inhibit",
        "snmp_name", "nb_get_retry", "lb_flags", "lvs_flags", "tunnel_type",
    ];

    // real_server settings and health checkers: they decide when a real server takes traffic, not whether it needs the VIP.
    private static readonly HashSet<string> IgnoredInRealServer =
    [
        "uthreshold", "lthreshold", "inhibit_on_failure", "notify_up", "notify_down", "alpha", "retry",
        "delay_before_retry", "warmup", "delay_loop", "smtp_alert", "virtualhost", "connect_timeout", "track_file",
        "track_bfd", "snmp_name", "HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK",
        "BFD_CHECK", "PING_CHECK", "UDP_CHECK", "FILE_CHECK",
    ];

    /// <summary>Reads a keepalived.conf and the files it includes.</summary>
    public static IReadOnlyList<LvsVirtualService> ParseFile(string path, LvsConfigOptions? options = null, ICollection<string>? warnings = null)
    {
        var fullPath = Path.GetFullPath(path);
        var reader = new Reader(options ?? new LvsConfigOptions(), warnings, fullPath);
        reader.ReadText(ReadFile(fullPath, fullPath, 0), fullPath);
        return reader.Finish();
    }

    /// <summary>Reads keepalived.conf text; includes resolve relative to the folder of <paramref name="sourceFile"/>.</summary>
    public static IReadOnlyList<LvsVirtualService> Parse(string text, string sourceFile, LvsConfigOptions? options = null, ICollection<string>? warnings = null)
    {
        var reader = new Reader(options ?? new LvsConfigOptions(), warnings, Path.GetFullPath(sourceFile));
        reader.ReadText(text, sourceFile);
        return reader.Finish();
    }

    private static string ReadFile(string path, string fromFile, int fromLine)
    {
        if (Directory.Exists(path))
        {
            throw new LvsException(LvsErrorKind.FileError, $"{path} is a directory, not a configuration file; give the file (for example /etc/keepalived/keepalived.conf).", path);
        }

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

    /// <summary>The line-level work of keepalived's read_line(): comments, conditionals, definitions, includes.</summary>
    private sealed class Reader(LvsConfigOptions options, ICollection<string>? warnings, string firstFile)
    {
        private sealed class Definition(List<string> lines, bool multiline)
        {
            public List<string> Lines { get; } = lines;

            public bool Multiline { get; set; } = multiline;
        }

        private readonly Dictionary<string, Definition> _definitions = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _conditionalIds = new(StringComparer.Ordinal);
        private readonly HashSet<string> _includeStack = [firstFile];
        private readonly List<Token> _tokens = [];

        public void Warn(string file, int line, string message) => warnings?.Add(ConfigSyntax.Warning(file, line, message));

        public IReadOnlyList<LvsVirtualService> Finish()
        {
            // With -ConfigId the choice is the caller's; without it, which lines count depends on a host name we cannot know.
            foreach (var (id, where) in _conditionalIds.Where(_ => options.ConfigId is null))
            {
                warnings?.Add($"{where}: conditional lines for config id '{id}' (@{id}, @^{id}) were read as on a director whose config id is not '{id}'; " +
                              $"keepalived's id is its -i option, or else the director's short host name: give -ConfigId {id} to read the file as that director does.");
            }

            var pos = 0;
            return Interpret(ParseBlock(_tokens, ref pos, null), this);
        }

        public void ReadText(string text, string file)
        {
            var lines = text.Split('\n');
            Definition? multiline = null;
            for (var n = 1; n <= lines.Length; n++)
            {
                var raw = lines[n - 1].TrimEnd('\r');
                if (multiline is not null)
                {
                    // An empty line ends a multiline definition; a line of only a comment does not (parser.c read_line).
                    if (raw.Length == 0)
                    {
                        multiline.Multiline = multiline.Lines.Count > 0;
                        multiline = null;
                        continue;
                    }

                    var (part, more) = Decomment(raw, file, n);
                    if (part.Length > 0)
                    {
                        multiline.Lines.Add(part);
                    }

                    // A line of only a comment or blanks leaves the definition open, as keepalived's read_line does.
                    if (!more && part.Length > 0)
                    {
                        multiline = null;
                    }

                    continue;
                }

                var (line, continued) = Decomment(raw, file, n);
                if (line.Length > 0 || continued)
                {
                    multiline = Line(line, continued, file, n, 0);
                }
            }
        }

        /// <summary>
        /// decomment(): '#' and '!' start a comment outside double quotes, "\#" and "\!" are those characters, a
        /// '\' at the end of the line continues it (which keepalived honours only in a $NAME= definition).
        /// </summary>
        private static (string Line, bool Continued) Decomment(string raw, string file, int n)
        {
            var sb = new StringBuilder(raw.Length);
            var quote = false;
            var continued = false;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '"')
                {
                    quote = !quote;
                }
                else if (c == '\\')
                {
                    if (i + 1 == raw.Length)
                    {
                        continued = true;
                        break;
                    }

                    if (!quote && raw[i + 1] is '#' or '!')
                    {
                        sb.Append(raw[++i]);
                        continue;
                    }

                    sb.Append(c).Append(raw[++i]);
                    continue;
                }
                else if (!quote && c is '#' or '!')
                {
                    break;
                }

                sb.Append(c);
            }

            if (quote)
            {
                throw ConfigSyntax.Error(file, n, "unterminated quoted string.");
            }

            return (sb.ToString().Trim(), continued);
        }

        /// <summary>One logical line; returns the definition it starts when that continues on the next lines.</summary>
        private Definition? Line(string line, bool continued, string file, int n, int depth)
        {
            if (depth > 64)
            {
                throw ConfigSyntax.Error(file, n, "parameter substitution does not end (a definition that uses itself?).");
            }

            // keepalived.conf(5): include lines are recognised before conditionals and substitution are applied.
            if (line.StartsWith("include", StringComparison.Ordinal)
                && line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries) is [var keyword, var pattern]
                && IncludeKeywords.Contains(keyword))
            {
                Include(pattern.Trim('"'), file, n);
                return null;
            }

            for (var round = 0; ; round++)
            {
                if (line.StartsWith('@'))
                {
                    var negated = line.Length > 1 && line[1] == '^';
                    var start = negated ? 2 : 1;
                    var end = line.IndexOfAny([' ', '\t'], start);
                    if (end < 0)
                    {
                        Warn(file, n, $"'{line}' is a conditional line with nothing after its id; keepalived ignores it.");
                        return null;
                    }

                    var id = line[start..end];
                    _conditionalIds.TryAdd(id, $"{file} line {n}");
                    if ((options.ConfigId == id) == negated)
                    {
                        return null;
                    }

                    line = line[end..].TrimStart();
                }

                if (line.StartsWith('$') && Define(line, continued) is { } defined)
                {
                    _definitions[defined.Name] = defined.Definition;
                    return defined.Definition.Multiline ? defined.Definition : null;
                }

                if (line.StartsWith('~'))
                {
                    Warn(file, n, "~SEQ and ~LST lines are not read by Import-LvsConfig; this line is left out (expand it by hand, or list its services with ipvsadm -Sn on the director).");
                    return null;
                }

                if (!line.Contains('$') || Substitute(line, file, n) is not { } substituted)
                {
                    break;
                }

                if (substituted.Further is { } rest)
                {
                    Line(substituted.Line, false, file, n, depth + 1);
                    foreach (var next in rest)
                    {
                        Line(next, false, file, n, depth + 1);
                    }

                    return null;
                }

                line = substituted.Line;
                if (round > 1000)
                {
                    throw ConfigSyntax.Error(file, n, "parameter substitution does not end (a definition that uses itself?).");
                }
            }

            if (continued)
            {
                Warn(file, n, "this line ends with '\\', but keepalived continues lines only inside a $NAME= definition: it reads the next line as a line of its own, and so does Import-LvsConfig.");
            }

            Tokenize(line, file, n);
            return null;
        }

        /// <summary>"$NAME=VALUE": no space before '=', whitespace after it skipped; a trailing '\' makes it multiline.</summary>
        private static (string Name, Definition Definition)? Define(string line, bool continued)
        {
            var eq = line.IndexOf('=');
            if (eq < 2 || !IsNameStart(line[1]) || !line[2..eq].All(IsNameChar))
            {
                return null;
            }

            var value = line[(eq + 1)..].Trim();
            return (line[1..eq], new Definition(value.Length > 0 || !continued ? [value] : [], continued));
        }

        private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

        private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

        /// <summary>
        /// replace_param(): $NAME followed by whitespace, ',', ')' or the end, or ${NAME}; undefined names stay as
        /// written; the replacement is scanned again, so definitions may use definitions. A multiline definition is
        /// replaced only at the end of a line, and its further lines follow it.
        /// </summary>
        private (string Line, List<string>? Further)? Substitute(string line, string file, int n)
        {
            var changed = false;
            List<string>? rest = null;
            var pos = 0;
            var replacements = 0;
            while ((pos = line.IndexOf('$', pos)) >= 0 && pos + 1 < line.Length)
            {
                var braces = line[pos + 1] == '{';
                var nameStart = pos + (braces ? 2 : 1);
                var nameEnd = nameStart;
                while (nameEnd < line.Length && IsNameChar(line[nameEnd]))
                {
                    nameEnd++;
                }

                var name = line[nameStart..nameEnd];
                var refEnd = braces ? nameEnd + 1 : nameEnd;
                var wellFormed = name.Length > 0 && IsNameStart(name[0])
                    && (braces ? nameEnd < line.Length && line[nameEnd] == '}' : nameEnd == line.Length || line[nameEnd] is ' ' or '\t' or ',' or ')');
                var value = wellFormed ? Lookup(name, file, atLineEnd: refEnd == line.Length) : null;
                if (value is null)
                {
                    pos++;
                    continue;
                }

                if (++replacements > 10000)
                {
                    throw ConfigSyntax.Error(file, n, "parameter substitution does not end (a definition that uses itself?).");
                }

                changed = true;
                if (value.Count > 1)
                {
                    rest = value.Skip(1).ToList();
                }

                line = line[..pos] + (value.Count > 0 ? value[0] : string.Empty) + line[refEnd..];
            }

            return changed ? (line.Trim(), rest) : null;
        }

        private List<string>? Lookup(string name, string file, bool atLineEnd)
        {
            if (_definitions.TryGetValue(name, out var d))
            {
                return d.Multiline && !atLineEnd ? null : d.Lines;
            }

            // keepalived's predefined definitions that a file can use to name its own addresses.
            return name switch
            {
                "_PWD" => [Path.GetDirectoryName(Path.GetFullPath(file)) ?? "/"],
                "_INSTANCE" when options.ConfigId is { } id => [id],
                "_HASH" => ["#"],
                "_BANG" => ["!"],
                _ => null,
            };
        }

        private void Tokenize(string line, string file, int n)
        {
            var i = 0;
            while (i < line.Length)
            {
                var c = line[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                    continue;
                }

                if (c is '{' or '}')
                {
                    _tokens.Add(new Token(c.ToString(), false, file, n));
                    i++;
                    continue;
                }

                // keepalived.conf(5): " and ' quote, the quotes are removed, and text next to them joins the word.
                var word = new StringBuilder();
                var quoted = false;
                while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] is not ('{' or '}'))
                {
                    if (line[i] is '"' or '\'')
                    {
                        var q = line[i++];
                        quoted = true;
                        while (i < line.Length && line[i] != q)
                        {
                            if (line[i] == '\\' && i + 1 < line.Length)
                            {
                                i++;
                            }

                            word.Append(line[i++]);
                        }

                        if (i >= line.Length)
                        {
                            throw ConfigSyntax.Error(file, n, "unterminated quoted string.");
                        }

                        i++;
                        continue;
                    }

                    word.Append(line[i++]);
                }

                _tokens.Add(new Token(word.ToString(), quoted, file, n));
            }
        }

        /// <summary>
        /// read_conf_file(): the glob (with {a,b} braces) is relative to the including file's folder; folders are
        /// skipped, executable files are skipped as keepalived skips them, and a glob that matches nothing is a
        /// warning, since keepalived goes on without it.
        /// </summary>
        private void Include(string pattern, string file, int n)
        {
            var baseDir = Path.GetDirectoryName(Path.GetFullPath(file)) ?? "/";
            // glob(3) with GLOB_BRACE sorts the matches of each alternative and keeps the alternatives' order.
            var matches = ExpandBraces(pattern)
                .SelectMany(p => Glob(Path.GetFullPath(Path.Combine(baseDir, p))).Order(StringComparer.Ordinal))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            if (matches.Count == 0)
            {
                Warn(file, n, $"include {pattern} matches no file; keepalived goes on without it.");
            }

            foreach (var match in matches)
            {
                if (Directory.Exists(match))
                {
                    continue;
                }

                if ((File.GetUnixFileMode(match) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                {
                    Warn(file, n, $"the included file {match} is executable; keepalived skips it (\"not a regular non-executable file\"), and so does Import-LvsConfig.");
                    continue;
                }

                if (!_includeStack.Add(match))
                {
                    throw ConfigSyntax.Error(file, n, $"include cycle: {match} includes itself.");
                }

                ReadText(ReadFile(match, file, n), match);
                _includeStack.Remove(match);
            }
        }

        private static IEnumerable<string> ExpandBraces(string pattern)
        {
            var open = pattern.IndexOf('{');
            var close = open < 0 ? -1 : pattern.IndexOf('}', open);
            if (close < 0)
            {
                return [pattern];
            }

            var head = pattern[..open];
            var tail = pattern[(close + 1)..];
            return pattern[(open + 1)..close].Split(',').SelectMany(alt => ExpandBraces(head + alt + tail));
        }

        /// <summary>glob(3) for '*' and '?' in any part of an absolute path.</summary>
        private static IEnumerable<string> Glob(string path)
        {
            var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            IEnumerable<string> current = ["/"];
            for (var i = 0; i < parts.Length; i++)
            {
                var part = parts[i];
                var last = i == parts.Length - 1;
                current = part.IndexOfAny(['*', '?']) < 0
                    ? current.Select(d => Path.Combine(d, part)).Where(p => last ? File.Exists(p) || Directory.Exists(p) : Directory.Exists(p))
                    : current.Where(Directory.Exists).SelectMany(d => Directory.EnumerateFileSystemEntries(d, part)
                        .Where(p => !Path.GetFileName(p).StartsWith('.') || part.StartsWith('.'))
                        .Where(p => last || Directory.Exists(p)));
            }

            return current.ToList();
        }
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

    private static IReadOnlyList<LvsVirtualService> Interpret(List<Node> top, Reader reader)
    {
        var groups = new Dictionary<string, List<GroupMember>>(StringComparer.Ordinal);
        foreach (var node in top.Where(n => n.Keyword.Text == "virtual_server_group"))
        {
            if (node.Args.Count != 1 || node.Children is null)
            {
                throw ConfigSyntax.Error(node.Keyword.File, node.Keyword.Line, "virtual_server_group needs a name and a block.");
            }

            var members = node.Children.SelectMany(GroupMembers).ToList();
            if (members.Any(m => m.Address?.AddressFamily == AddressFamily.InterNetwork)
                && members.Any(m => m.Address?.AddressFamily == AddressFamily.InterNetworkV6)
                && node.Children.Any(e => e.Keyword.Text == "fwmark" && e.Args.Count < 2))
            {
                throw ConfigSyntax.Error(node.Keyword.File, node.Keyword.Line,
                    $"virtual_server_group {node.Args[0].Text} has IPv4, IPv6 and a fwmark without family (inet or inet6); keepalived removes such a group.");
            }

            groups[node.Args[0].Text] = members;
        }

        var services = new List<LvsVirtualService>();
        foreach (var node in top)
        {
            var k = node.Keyword;
            switch (k.Text)
            {
                case "virtual_server":
                    services.AddRange(VirtualServer(node, groups, reader));
                    break;
                case "virtual_server_group":
                    break;
                case var include when IncludeKeywords.Contains(include):
                    reader.Warn(k.File, k.Line, $"{include} takes exactly one file name; keepalived ignores this line, and so does Import-LvsConfig.");
                    break;
                case var other when !IgnoredTopLevel.Contains(other):
                    reader.Warn(k.File, k.Line, $"unknown keyword '{other}' left out; keepalived ignores it too (\"Unknown keyword\").");
                    break;
            }
        }

        return services;
    }

    private static IEnumerable<GroupMember> GroupMembers(Node entry)
    {
        var k = entry.Keyword;
        if (k.Text == "fwmark")
        {
            yield return new GroupMember(null, null, 0, ConfigSyntax.Number(Arg(entry, 0, "a mark"), "firewall mark", k.File, k.Line));
            yield break;
        }

        var port = entry.Args.Count > 0 ? ConfigSyntax.Port(entry.Args[0].Text, k.File, k.Line) : 0;
        foreach (var (address, zone) in Range(k.Text, k.File, k.Line))
        {
            yield return new GroupMember(address, zone, port, null);
        }
    }

    /// <summary>
    /// The address forms of a virtual_server_group entry (check_data.c alloc_vsg_entry): an address,
    /// "192.0.2.1-10" (the last IPv4 byte, or the last IPv6 group in hex, must grow), "192.0.2.1-192.0.2.20" and
    /// "2001:db8::1-2001:db8::20" (a full range, ends included), and "192.0.2.0/28" (every address of the block,
    /// whose host bits must be zero).
    /// </summary>
    private static IEnumerable<(IPAddress Address, string? Zone)> Range(string text, string file, int line)
    {
        var slash = text.IndexOf('/');
        if (slash >= 0)
        {
            var network = Address(text[..slash], file, line);
            var bits = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            if (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix < 1 || prefix > bits)
            {
                throw ConfigSyntax.Error(file, line, $"'{text}' has an invalid prefix length (1 to {bits}).");
            }

            var first = ToNumber(network);
            var hostMask = prefix == 128 ? UInt128.Zero : (UInt128.One << (bits - prefix)) - 1;
            if ((first & hostMask) != 0)
            {
                throw ConfigSyntax.Error(file, line, $"'{text}' has host bits set; keepalived skips it (\"Address mask bits not empty\"): write the network address.");
            }

            return Expand(text, network, first, first | hostMask, file, line);
        }

        var dash = text.IndexOf('-');
        if (dash < 0)
        {
            return [Zoned(text, file, line)];
        }

        var start = Address(text[..dash], file, line);
        var endText = text[(dash + 1)..];
        var v6 = start.AddressFamily == AddressFamily.InterNetworkV6;
        if (endText.Contains(v6 ? ':' : '.'))
        {
            var end = Address(endText, file, line);
            if (end.AddressFamily != start.AddressFamily || ToNumber(end) < ToNumber(start))
            {
                throw ConfigSyntax.Error(file, line, $"'{text}' is not an address range: its end must be an address of the same family, not below its start.");
            }

            return Expand(text, start, ToNumber(start), ToNumber(end), file, line);
        }

        var bytes = start.GetAddressBytes();
        var low = v6 ? (bytes[14] << 8) | bytes[15] : bytes[3];
        if (!int.TryParse(endText, v6 ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || last <= low || last > (v6 ? 0xffff : 255))
        {
            throw ConfigSyntax.Error(file, line, $"'{text}' is not an address range: the last {(v6 ? "group (hex)" : "byte")} after '-' must be greater than the start's.");
        }

        var number = ToNumber(start);
        return Expand(text, start, number, number - (UInt128)low + (UInt128)last, file, line);
    }

    private static IPAddress Address(string text, string file, int line) => ConfigSyntax.Address(Defined(text, file, line), file, line);

    private static (IPAddress Address, string? Zone) Zoned(string text, string file, int line) => ConfigSyntax.ZonedAddress(Defined(text, file, line), file, line);

    /// <summary>An address that still holds a '$' after substitution names a parameter that was never defined.</summary>
    private static string Defined(string text, string file, int line) =>
        text.Contains('$') ? throw ConfigSyntax.Error(file, line, $"'{text}' uses a parameter no $NAME= line defines before it.") : text;

    private static IEnumerable<(IPAddress, string?)> Expand(string text, IPAddress family, UInt128 first, UInt128 last, string file, int line)
    {
        if (last - first >= MaxRangeAddresses)
        {
            throw ConfigSyntax.Error(file, line, $"'{text}' covers more than {MaxRangeAddresses} addresses, each a VIP on every real server; split it or use a fwmark service.");
        }

        var v6 = family.AddressFamily == AddressFamily.InterNetworkV6;
        var list = new List<(IPAddress, string?)>((int)(last - first) + 1);
        for (var n = first; n <= last; n++)
        {
            list.Add((FromNumber(n, v6), null));
            if (n == UInt128.MaxValue)
            {
                break;
            }
        }

        return list;
    }

    private static UInt128 ToNumber(IPAddress address) =>
        address.GetAddressBytes().Aggregate(UInt128.Zero, (n, b) => (n << 8) | b);

    private static IPAddress FromNumber(UInt128 n, bool v6)
    {
        var bytes = new byte[v6 ? 16 : 4];
        for (var i = bytes.Length - 1; i >= 0; i--, n >>= 8)
        {
            bytes[i] = (byte)(n & 0xff);
        }

        return new IPAddress(bytes);
    }

    private static string Arg(Node node, int index, string what) =>
        index < node.Args.Count
            ? node.Args[index].Text
            : throw ConfigSyntax.Error(node.Keyword.File, node.Keyword.Line, $"{node.Keyword.Text} needs {what}.");

    /// <summary>
    /// lvs_method (lb_kind) as check_parser.c reads it: exactly "NAT", "DR" or "TUN" (with tunnel options after
    /// TUN). Anything else keepalived reports as an unknown routing method and keeps the method it had.
    /// </summary>
    private static MethodSetting Method(Node node)
    {
        var k = node.Keyword;
        var text = Arg(node, 0, "NAT, DR or TUN");
        LvsForwardingMethod? method = text switch
        {
            "NAT" => LvsForwardingMethod.Nat,
            "DR" => LvsForwardingMethod.Direct,
            "TUN" => LvsForwardingMethod.Tunnel,
            _ => null,
        };
        if (method is not null)
        {
            return new MethodSetting(method, null);
        }

        var why = text.ToUpperInvariant() switch
        {
            "NAT" or "DR" or "TUN" => $"keepalived compares it case-sensitively and accepts only {text.ToUpperInvariant()}",
            "FNAT" or "FULLNAT" => "that is full NAT, which keepalived does not know (dpvs's keepalived does; its real servers need no VIP)",
            _ => "keepalived knows only NAT, DR and TUN",
        };
        return new MethodSetting(null, $"{k.Text} '{text}' ({Path.GetFileName(k.File)} line {k.Line}) is rejected: {why}; keepalived reports an unknown routing method and keeps the method it had");
    }

    private static IEnumerable<LvsVirtualService> VirtualServer(Node node, Dictionary<string, List<GroupMember>> groups, Reader reader)
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
            members = [new GroupMember(null, null, 0, ConfigSyntax.Number(Arg(node, 1, "a mark"), "firewall mark", k.File, k.Line))];
        }
        else
        {
            var port = node.Args.Count > 1 ? ConfigSyntax.Port(node.Args[1].Text, k.File, k.Line) : 0;
            var (address, zone) = Zoned(first, k.File, k.Line);
            members = [new GroupMember(address, zone, port, null)];
        }

        // A real or sorry server takes the service's method as it stands when keepalived reads its line
        // (check_data.c alloc_rs/alloc_ssvr); one read before any lvs_method gets the final one (or NAT).
        MethodSetting current = new(null, null);
        var protocol = "tcp";
        var scheduler = "wlc";
        var reals = new List<(Node Node, MethodSetting Inherited, bool Sorry)>();
        (Node Node, MethodSetting Inherited, bool Sorry)? sorry = null;
        MethodSetting? sorryOwn = null;
        foreach (var child in node.Children)
        {
            var ck = child.Keyword;
            switch (ck.Text)
            {
                case "lvs_method" or "lb_kind":
                    var setting = Method(child);
                    current = setting.Method is null ? current with { Note = setting.Note } : setting;
                    break;
                case "lvs_sched" or "lb_algo":
                    scheduler = Arg(child, 0, "a scheduler");
                    break;
                case "protocol":
                    var p = Arg(child, 0, "TCP, UDP or SCTP");
                    if (p.ToLowerInvariant() is "tcp" or "udp" or "sctp")
                    {
                        protocol = p.ToLowerInvariant();
                    }
                    else
                    {
                        reader.Warn(ck.File, ck.Line, $"protocol '{p}' is not TCP, UDP or SCTP; keepalived ignores it (\"Unknown protocol\") and keeps {protocol.ToUpperInvariant()}.");
                    }

                    break;
                case "real_server":
                    reals.Add((child, current, false));
                    break;
                case "sorry_server":
                    sorry = (child, current, true);
                    sorryOwn = null;
                    break;
                case "sorry_server_lvs_method":
                    if (sorry is null)
                    {
                        reader.Warn(ck.File, ck.Line, "sorry_server_lvs_method comes before any sorry_server; keepalived ignores it.");
                    }
                    else
                    {
                        sorryOwn = Method(child);
                    }

                    break;
                case var other when !IgnoredInVirtualServer.Contains(other):
                    reader.Warn(ck.File, ck.Line, $"unknown keyword '{other}' in virtual_server left out; keepalived ignores it too (\"Unknown keyword\").");
                    break;
            }
        }

        var serviceMethod = current.Method ?? LvsForwardingMethod.Nat;
        var serviceNote = current.Method is null ? current.Note ?? "it has no lvs_method (lb_kind), and keepalived's default is NAT" : null;
        var entries = new List<(Node Node, MethodSetting Inherited, bool Sorry)>(reals);
        if (sorry is { } s)
        {
            entries.Add(s);
        }

        foreach (var m in members)
        {
            var servers = entries.Select(e => RealServer(e.Node, m.Port, e.Sorry ? sorryOwn : null, e.Inherited, serviceMethod, serviceNote, e.Sorry, reader)).ToList();
            yield return new LvsVirtualService
            {
                Address = m.Address,
                Zone = m.Zone,
                Port = m.Port,
                Protocol = protocol,
                Scheduler = scheduler,
                ForwardingMethod = serviceMethod,
                FirewallMark = m.FirewallMark,
                Name = name,
                SourceFile = k.File,
                SourceLine = k.Line,
                RealServers = servers,
                MethodNote = serviceNote,
            };
        }
    }

    private static LvsRealServerEntry RealServer(Node node, int servicePort, MethodSetting? own, MethodSetting inherited, LvsForwardingMethod serviceMethod, string? serviceNote, bool sorry, Reader reader)
    {
        var k = node.Keyword;
        var (address, zone) = Zoned(Arg(node, 0, "an address"), k.File, k.Line);
        var port = node.Args.Count > 1 ? ConfigSyntax.Port(node.Args[1].Text, k.File, k.Line) : servicePort;
        var weight = 1;
        foreach (var child in node.Children ?? [])
        {
            var ck = child.Keyword;
            switch (ck.Text)
            {
                case "weight":
                    weight = ConfigSyntax.Number(Arg(child, 0, "a number"), "weight", ck.File, ck.Line);
                    break;
                case "lvs_method":
                    var setting = Method(child);
                    own = setting.Method is null ? (own ?? new MethodSetting(null, null)) with { Note = setting.Note } : setting;
                    break;
                case var other when !IgnoredInRealServer.Contains(other):
                    reader.Warn(ck.File, ck.Line, $"unknown keyword '{other}' in real_server left out; keepalived ignores it too (\"Unknown keyword\").");
                    break;
            }
        }

        var (method, note) = own?.Method is { } m ? (m, null)
            : inherited.Method is { } i ? (i, own?.Note ?? inherited.Note)
            : (serviceMethod, own?.Note ?? serviceNote);
        return new LvsRealServerEntry
        {
            Address = address,
            Zone = zone,
            Port = port,
            Weight = weight,
            ForwardingMethod = method,
            IsSorryServer = sorry,
            MethodNote = note,
        };
    }
}

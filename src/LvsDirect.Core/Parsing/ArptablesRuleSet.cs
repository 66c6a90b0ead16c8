using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Parsing;

/// <summary>
/// The rules `arptables-save` printed, of any flavor, and the text that gives them back to `arptables-restore`
/// with some rules removed and others added. Every rule the module did not write is kept verbatim.
/// </summary>
public sealed partial class ArptablesRuleSet
{
    private const string FilterTable = "filter";
    private const string UserChainPolicy = "-";

    private static readonly char[] Blanks = [' ', '\t'];

    // Generated at build time: constructing a Regex at run time costs a fresh process milliseconds on its first listing.
    [GeneratedRegex(@"^\[\d+:\d+\]\s*", RegexOptions.CultureInvariant)]
    private static partial Regex CountersPrefix();

    [GeneratedRegex(@"^\d{1,3}(\.\d{1,3}){3}$", RegexOptions.CultureInvariant)]
    private static partial Regex DottedQuad();

    private readonly List<Table> _tables;
    private readonly Dictionary<string, IReadOnlyList<ArpRule>> _chainRules;

    private ArptablesRuleSet(List<Table> tables, ArptablesFlavor? flavor)
    {
        _tables = tables;
        DetectedFlavor = flavor;
        Rules = tables.SelectMany(t => t.Rules).ToList();
        var filter = tables.Find(t => t.Name == FilterTable);
        _chainRules = (filter?.Rules ?? []).GroupBy(r => r.Chain, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<ArpRule>)g.ToList(), StringComparer.Ordinal);
        ChainNames = filter is null
            ? []
            : filter.Chains.Select(c => c.Name).Concat(filter.Rules.Select(r => r.Chain)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Nft when a header says "(nf_tables)", Jf when the filter table's built-in chains are IN/OUT, Legacy when they
    /// are INPUT/OUTPUT; null when the text has no table (arptables-nft-save prints nothing at all before the first
    /// rule is added), so the caller has to ask `arptables -V`.
    /// </summary>
    public ArptablesFlavor? DetectedFlavor { get; }

    /// <summary>
    /// Every rule of every table, in file order. A source or destination given with a mask wider than /32 or negated
    /// with `!` still fills <see cref="ArpRule.Source"/>/<see cref="ArpRule.Destination"/> with the printed address,
    /// but sets <see cref="ArpRule.HasOtherMatches"/>, so such a rule is never taken for a seed rule.
    /// </summary>
    public IReadOnlyList<ArpRule> Rules { get; }

    /// <summary>The filter table's chains: declared ones in declaration order, then any only named by a rule.</summary>
    public IReadOnlyList<string> ChainNames { get; }

    /// <summary>The filter table's rules of <paramref name="chain"/>, in the order the kernel tries them.</summary>
    public IReadOnlyList<ArpRule> RulesOf(string chain) => _chainRules.GetValueOrDefault(chain) ?? [];

    /// <summary>
    /// True when the rule's own `-d` (<paramref name="destination"/>) or `-s` match cannot match
    /// <paramref name="address"/>: a plain, masked or negated address that leaves it out. False when the rule has no
    /// such match or it cannot be read, so a caller asking "could this rule take the VIP's ARP?" errs on yes.
    /// </summary>
    public static bool Excludes(ArpRule rule, IPAddress address, bool destination) => Match(rule, destination).Excludes(address);

    /// <summary>The rule's own `-d` (<paramref name="destination"/>) or `-s` match, read once for any number of addresses.</summary>
    public static AddressMatch Match(ArpRule rule, bool destination)
    {
        var tokens = rule.RawLine.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 2; i < tokens.Length - 1; i++)
        {
            var negated = tokens[i - 1] == "!";
            var isOption = destination ? tokens[i] is "-d" or "--destination-ip" : tokens[i] is "-s" or "--source-ip";
            if (!isOption)
            {
                continue;
            }

            var value = tokens[i + 1];
            if (value == "!" && i + 2 < tokens.Length)
            {
                negated = true;
                value = tokens[i + 2];
            }
            else if (value.StartsWith('!'))
            {
                negated = true;
                value = value[1..];
            }

            return TryParseNetwork(value, out var network) ? new AddressMatch(network, negated) : AddressMatch.Anything;
        }

        return AddressMatch.Anything;
    }

    private static bool TryParseNetwork(string value, out IPNetwork network)
    {
        network = default;
        var slash = value.IndexOf('/');
        var addressText = slash < 0 ? value : value[..slash];
        if (!DottedQuad().IsMatch(addressText) || !IPAddress.TryParse(addressText, out var address))
        {
            return false;
        }

        var prefix = 32;
        if (slash >= 0)
        {
            var mask = value[(slash + 1)..];
            if (DottedQuad().IsMatch(mask) && IPAddress.TryParse(mask, out var maskAddress))
            {
                var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(maskAddress.GetAddressBytes());
                prefix = System.Numerics.BitOperations.PopCount(bits);
                if (bits != (prefix == 0 ? 0u : uint.MaxValue << (32 - prefix)))
                {
                    return false;
                }
            }
            else if (!int.TryParse(mask, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > 32)
            {
                return false;
            }
        }

        var bytes = address.GetAddressBytes();
        var host = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes) & (prefix == 0 ? 0u : uint.MaxValue << (32 - prefix));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, host);
        network = new IPNetwork(new IPAddress(bytes), prefix);
        return true;
    }

    /// <summary>Parses arptables-save output of any flavor (nft, the legacy perl script, arptables_jf).</summary>
    public static ArptablesRuleSet Parse(string saveText)
    {
        var tables = new List<Table>();
        Table? current = null;
        var nftHeader = false;
        var lineNumber = 0;
        foreach (var rawLine in saveText.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                nftHeader |= line.Contains("(nf_tables)", StringComparison.Ordinal);
                continue;
            }

            if (line[0] == '*')
            {
                var name = line[1..].Trim();
                if (name.Length == 0)
                {
                    throw LineError(lineNumber, line, "a table header without a table name");
                }

                current = GetOrAdd(tables, name);
                continue;
            }

            if (line == "COMMIT")
            {
                current = null;
                continue;
            }

            // Rules and chains outside a `*table` section belong to the default table, as on the arptables command line.
            current ??= GetOrAdd(tables, FilterTable);
            if (line[0] == ':')
            {
                current.Chains.Add(ParseChain(line, lineNumber));
                continue;
            }

            // `arptables -S` and hand-written files declare a user chain as a command: `-N LVSDIRECT-IN`.
            if (line.StartsWith("-N ", StringComparison.Ordinal) || line.StartsWith("--new-chain ", StringComparison.Ordinal))
            {
                current.Chains.Add(ParseChain($":{line[(line.IndexOf(' ') + 1)..].Trim()} {UserChainPolicy}", lineNumber));
                continue;
            }

            line = CountersPrefix().Replace(line, string.Empty, 1);
            current.Rules.Add(ParseRule(current.Name, line, lineNumber));
        }

        return new ArptablesRuleSet(tables, Detect(tables, nftHeader));
    }

    /// <summary>
    /// The full text for `arptables-restore`: every table, chain declaration, policy and rule as parsed, minus the
    /// rules <paramref name="remove"/> selects, plus <paramref name="addRuleLines"/> (`-A CHAIN spec…`) in the filter
    /// table, each after the last rule of its chain. Comments and counters are dropped. COMMIT ends each table except
    /// for Legacy, whose restore script hands every line to arptables and fails on it.
    /// </summary>
    public string Render(ArptablesDialect dialect, IEnumerable<string> addRuleLines, Func<ArpRule, bool> remove)
    {
        var tables = _tables.Select(t => t.Name == FilterTable ? t.Copy() : t).ToList();
        var filter = tables.Find(t => t.Name == FilterTable);
        if (filter is null)
        {
            filter = new Table(FilterTable);
            filter.Chains.Add(new Chain(dialect.InputChain, "ACCEPT"));
            filter.Chains.Add(new Chain(dialect.OutputChain, "ACCEPT"));
            tables.Add(filter);
        }

        var text = new StringBuilder();
        foreach (var table in tables)
        {
            var lines = table.Rules.Where(r => !remove(r)).Select(r => (r.Chain, Line: r.RawLine)).ToList();
            if (ReferenceEquals(table, filter))
            {
                Insert(lines, filter, dialect, addRuleLines);
            }

            text.Append('*').Append(table.Name).Append('\n');
            foreach (var chain in table.Chains)
            {
                text.Append(':').Append(chain.Name).Append(' ').Append(chain.Policy).Append('\n');
            }

            foreach (var (_, line) in lines)
            {
                text.Append(line).Append('\n');
            }

            if (dialect.Flavor != ArptablesFlavor.Legacy)
            {
                text.Append("COMMIT\n");
            }
        }

        return text.ToString();
    }

    private static void Insert(List<(string Chain, string Line)> lines, Table filter, ArptablesDialect dialect, IEnumerable<string> addRuleLines)
    {
        // New rules for chains without rules go first, in the order given.
        var emptyChainPosition = 0;
        foreach (var added in addRuleLines)
        {
            var line = added.Trim();
            var tokens = line.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length < 2 || tokens[0] is not ("-A" or "--append"))
            {
                throw new ArgumentException($"Not an '-A CHAIN …' rule line: '{added}'", nameof(addRuleLines));
            }

            var chain = tokens[1];
            if ((chain == dialect.InputChain || chain == dialect.OutputChain) && !filter.Chains.Exists(c => c.Name == chain))
            {
                filter.Chains.Add(new Chain(chain, "ACCEPT"));
            }

            var last = lines.FindLastIndex(l => l.Chain == chain);
            var at = last >= 0 ? last + 1 : emptyChainPosition;
            if (at <= emptyChainPosition)
            {
                emptyChainPosition++;
            }

            lines.Insert(at, (chain, line));
        }
    }

    private static Table GetOrAdd(List<Table> tables, string name)
    {
        var table = tables.Find(t => t.Name == name);
        if (table is null)
        {
            table = new Table(name);
            tables.Add(table);
        }

        return table;
    }

    private static Chain ParseChain(string line, int lineNumber)
    {
        // arptables_jf, like iptables-save, may append the chain's counters: `:IN ACCEPT [0:0]`.
        var parts = line[1..].Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || parts.Length > 3 || (parts.Length == 3 && !CountersPrefix().IsMatch(parts[2])))
        {
            throw LineError(lineNumber, line, "a chain declaration must be ':CHAIN POLICY' or ':CHAIN -'");
        }

        return new Chain(parts[0], parts[1]);
    }

    private static ArpRule ParseRule(string table, string line, int lineNumber)
    {
        var tokens = line.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || tokens[0] is not ("-A" or "--append"))
        {
            throw LineError(lineNumber, line, "expected a table header, a chain declaration, a rule '-A CHAIN …' or COMMIT");
        }

        if (tokens.Length < 2)
        {
            throw LineError(lineNumber, line, "a rule without a chain");
        }

        string? target = null;
        IPAddress? source = null, destination = null, mangleIpSource = null;
        var other = false;
        var negated = false;
        for (var i = 2; i < tokens.Length; i++)
        {
            var option = tokens[i];
            if (option == "!")
            {
                negated = true;
                continue;
            }

            switch (option)
            {
                case "-s" or "--source-ip":
                    source = ReadAddress(tokens, ref i, ref other, lineNumber, line);
                    break;
                case "-d" or "--destination-ip":
                    destination = ReadAddress(tokens, ref i, ref other, lineNumber, line);
                    break;
                case "-j" or "--jump":
                    target = Value(tokens, ref i, lineNumber, line);
                    break;
                case "--mangle-ip-s":
                    mangleIpSource = ReadAddress(tokens, ref i, ref other, lineNumber, line);
                    break;
                default:
                    // Any other match or option (or the value of one) means a rule the module did not write.
                    other = true;
                    break;
            }

            other |= negated;
            negated = false;
        }

        return new ArpRule(table, tokens[1], target, source, destination, mangleIpSource, other | negated, line);
    }

    /// <summary>An address that only counts as a plain match when it is one IPv4 address (/32), not negated.</summary>
    private static IPAddress? ReadAddress(string[] tokens, ref int i, ref bool other, int lineNumber, string line)
    {
        var value = Value(tokens, ref i, lineNumber, line);
        if (value == "!")
        {
            // Intrapositioned negation (`-d ! ADDR`), which older arptables printed.
            other = true;
            value = Value(tokens, ref i, lineNumber, line);
        }
        else if (value.StartsWith('!'))
        {
            other = true;
            value = value[1..];
        }

        var slash = value.IndexOf('/');
        var addressText = slash < 0 ? value : value[..slash];
        if (slash >= 0 && value[(slash + 1)..] is not ("32" or "255.255.255.255"))
        {
            other = true;
        }

        // IPAddress.TryParse alone would take "203.0.113" for 203.0.0.113.
        if (DottedQuad().IsMatch(addressText) && IPAddress.TryParse(addressText, out var address))
        {
            return address;
        }

        other = true;
        return null;
    }

    private static string Value(string[] tokens, ref int i, int lineNumber, string line) =>
        ++i < tokens.Length ? tokens[i] : throw LineError(lineNumber, line, $"option {tokens[i - 1]} has no value");

    private static ArptablesFlavor? Detect(List<Table> tables, bool nftHeader)
    {
        if (nftHeader)
        {
            return ArptablesFlavor.Nft;
        }

        var builtIn = tables.Find(t => t.Name == FilterTable)?.Chains.Where(c => c.Policy != UserChainPolicy).Select(c => c.Name).ToList();
        if (builtIn is null)
        {
            return null;
        }

        if (builtIn.Contains("IN") || builtIn.Contains("OUT"))
        {
            return ArptablesFlavor.Jf;
        }

        return builtIn.Contains("INPUT") || builtIn.Contains("OUTPUT") ? ArptablesFlavor.Legacy : null;
    }

    private static LvsException LineError(int lineNumber, string line, string problem) =>
        new(LvsErrorKind.ParseError, $"arptables-save output, line {lineNumber}: {problem}: '{line}'", line);

    private sealed record Chain(string Name, string Policy);

    private sealed class Table(string name)
    {
        public string Name { get; } = name;

        public List<Chain> Chains { get; private init; } = [];

        public List<ArpRule> Rules { get; private init; } = [];

        /// <summary>Render adds declarations to the filter table; the parsed set must stay as it was.</summary>
        public Table Copy() => new(Name) { Chains = [.. Chains], Rules = Rules };
    }
}

/// <summary>
/// One rule's `-d` or `-s` match: an address, a network or their negation, or <see cref="Anything"/> when the rule
/// has no such match or it cannot be read (so it may take any address).
/// </summary>
public sealed class AddressMatch
{
    public static readonly AddressMatch Anything = new(null, false);

    public AddressMatch(IPNetwork? network, bool negated)
    {
        Network = network;
        Negated = negated;
    }

    public IPNetwork? Network { get; }

    public bool Negated { get; }

    /// <summary>The one address the match takes (a plain host address, not negated); null when it takes none or more.</summary>
    public IPAddress? Single =>
        Network is { } n && !Negated && n.PrefixLength == (n.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128) ? n.BaseAddress : null;

    /// <summary>True when the match cannot take <paramref name="address"/>.</summary>
    public bool Excludes(IPAddress address) => Network is { } n && n.Contains(address) == Negated;
}

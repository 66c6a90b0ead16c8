using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// One command the boot files run. The rc.local block and the systemd unit are two renderings of the same
/// list (<see cref="BootCommands"/>), and both are read back into it, so what a boot restores is compared with
/// the live state as data, never as shell text.
/// </summary>
public abstract record BootCommand
{
    /// <summary>The program the command runs (by name; the unit gives its absolute path).</summary>
    public abstract string Program { get; }

    /// <summary>The arguments of the command that makes the change (the rc.local block adds its tests around it).</summary>
    public abstract IReadOnlyList<string> Arguments { get; }

    /// <summary>The command as one line, for tests and -WhatIf text.</summary>
    public string Describe() => Program + " " + string.Join(' ', Arguments);
}

/// <summary>The sysctl method's settings, before any VIP on lo.</summary>
public sealed record BootSysctls(IReadOnlyList<(SysctlKey Key, int Value)> Settings) : BootCommand
{
    public override string Program => "sysctl";

    public override IReadOnlyList<string> Arguments => ["-q", "-w", .. Settings.Select(s => $"{s.Key.Name}={s.Value}")];
}

/// <summary>One of LvsDirect's arptables chains, entered from the first rule of its built-in chain.</summary>
public sealed record BootArpChain(string OwnChain, string BuiltinChain) : BootCommand
{
    public override string Program => "arptables";

    public override IReadOnlyList<string> Arguments => ["-I", BuiltinChain, "1", "-j", OwnChain];
}

/// <summary>One ARP suppression rule of <see cref="Vip"/>, appended to <see cref="Chain"/>.</summary>
public sealed record BootArpRule(IPAddress Vip, string Chain, IReadOnlyList<string> Spec) : BootCommand
{
    public override string Program => "arptables";

    public override IReadOnlyList<string> Arguments => ["-A", Chain, .. Spec];

    public static BootArpRule Drop(IPAddress vip) => new(vip, ArptablesDialect.OwnInputChain, ArptablesSyntax.InputDropSpec(vip));

    public static BootArpRule Mangle(IPAddress vip, IPAddress realIp) => new(vip, ArptablesDialect.OwnOutputChain, ArptablesSyntax.OutputMangleSpec(vip, realIp));
}

/// <summary>An iptables REDIRECT rule (a VIP with no address).</summary>
public sealed record BootRedirect(RedirectRule Rule) : BootCommand
{
    public override string Program => "iptables";

    public override IReadOnlyList<string> Arguments => ["-t", RedirectSyntax.Table, "-A", RedirectSyntax.Chain, .. Spec];

    public IReadOnlyList<string> Spec => RedirectSyntax.Spec(Rule.VirtualIP, Rule.Protocol, Rule.Port);
}

/// <summary>LvsDirect's nftables table, loaded from its file (idempotent: the file replaces the table).</summary>
public sealed record BootNftLoad(string Path) : BootCommand
{
    public override string Program => "nft";

    public override IReadOnlyList<string> Arguments => ["-f", Path];
}

/// <summary>Which earlier command an address waits for: it is added only when that one succeeded.</summary>
public enum BootGate
{
    None,
    ArpRules,
    Sysctls,
    NftTable,
}

/// <summary>
/// A VIP address: `ip addr replace`, idempotent, after its suppression (<see cref="Gate"/>; the unit needs no
/// gate, it stops at the first failure, so a unit read back says None).
/// </summary>
public sealed record BootAddress(IPAddress Address, int PrefixLength, string InterfaceName, string? Label, IPAddress? Broadcast, BootGate Gate = BootGate.None) : BootCommand
{
    public override string Program => "ip";

    public override IReadOnlyList<string> Arguments => RcLocal.AddressArguments(new RcVip(Address, PrefixLength, InterfaceName, Label, Broadcast, null));

    public bool IsLoopbackIPv4 => InterfaceName == HostState.LoopbackInterface && Address.AddressFamily == AddressFamily.InterNetwork;
}

/// <summary>
/// The commands a boot runs, in the order boot needs: the sysctl method's settings, LvsDirect's chains, the
/// REDIRECT rules, then per VIP its suppression rules followed by its address, so no VIP is up before its
/// suppression. <see cref="Dialect"/> is the arptables the commands were made for (null when read back).
/// </summary>
public sealed class BootCommands
{
    public BootCommands(IReadOnlyList<BootCommand> commands, ArptablesDialect? dialect = null)
    {
        Commands = commands;
        Dialect = dialect;
    }

    public static BootCommands Empty { get; } = new([]);

    public IReadOnlyList<BootCommand> Commands { get; }

    public ArptablesDialect? Dialect { get; }

    /// <summary>True when there is nothing to recreate: no VIP and no REDIRECT rule (then no block, no unit).</summary>
    public bool IsEmpty => !Commands.Any(c => c is BootAddress or BootRedirect);

    public IEnumerable<BootAddress> Addresses => Commands.OfType<BootAddress>();

    public IEnumerable<BootRedirect> Redirects => Commands.OfType<BootRedirect>();

    public IEnumerable<BootArpRule> ArpRules => Commands.OfType<BootArpRule>();

    public BootSysctls? Sysctls => Commands.OfType<BootSysctls>().FirstOrDefault();

    public BootNftLoad? NftLoad => Commands.OfType<BootNftLoad>().FirstOrDefault();

    /// <summary>The rules as an arptables-save text would hold them, parsed like saved rules; null when there are none.</summary>
    public ArptablesRuleSet? RuleSet =>
        ArpRules.Any() ? ArptablesRuleSet.Parse(string.Join('\n', ArpRules.Select(r => ArptablesSyntax.RuleLine(r.Chain, r.Spec)))) : null;

    /// <summary>
    /// The one place that decides what a boot runs, and in which order. <paramref name="nftFile"/> is the
    /// nftables method's table file, loaded before the addresses of <paramref name="nftVips"/>, which wait for it.
    /// </summary>
    public static BootCommands Create(
        ArptablesDialect dialect,
        IReadOnlyList<RcVip> vips,
        IReadOnlyList<(SysctlKey Key, int Value)>? sysctls = null,
        IReadOnlyList<RedirectRule>? redirects = null,
        string? nftFile = null,
        IReadOnlySet<IPAddress>? nftVips = null)
    {
        if (vips.Count == 0 && redirects is not { Count: > 0 })
        {
            return new BootCommands([], dialect);
        }

        var commands = new List<BootCommand>();
        if (sysctls is { Count: > 0 })
        {
            commands.Add(new BootSysctls(sysctls));
        }

        if (vips.Any(v => v.RealIP is not null))
        {
            commands.AddRange(new[] { ArptablesDialect.OwnInputChain, ArptablesDialect.OwnOutputChain }
                .Select(own => new BootArpChain(own, dialect.BuiltinFor(own))));
        }

        var nft = nftFile is not null && nftVips is { Count: > 0 };
        if (nft)
        {
            commands.Add(new BootNftLoad(nftFile!));
        }

        commands.AddRange((redirects ?? []).Select(r => new BootRedirect(r)));
        foreach (var v in vips)
        {
            var gate = BootGate.None;
            if (v.RealIP is not null)
            {
                commands.Add(BootArpRule.Drop(v.Address));
                commands.Add(BootArpRule.Mangle(v.Address, v.RealIP));
                gate = BootGate.ArpRules;
            }
            else if (nft && nftVips!.Contains(v.Address))
            {
                gate = BootGate.NftTable;
            }

            var address = new BootAddress(v.Address, v.PrefixLength, v.InterfaceName, v.Label, v.Broadcast);
            if (gate == BootGate.None && sysctls is { Count: > 0 } && address.IsLoopbackIPv4)
            {
                gate = BootGate.Sysctls;
            }

            commands.Add(address with { Gate = gate });
        }

        return new BootCommands(commands, dialect);
    }

    /// <summary>
    /// The commands of an rc.local block (its lines between the markers), of this version or an earlier one:
    /// each line is split into the simple commands of its and-or list, and the one that makes a change is kept;
    /// tests (`-C`), deletions, flags and messages are the block's own scaffolding. Lines that are no command of
    /// ours are skipped.
    /// </summary>
    public static BootCommands ReadBlock(IEnumerable<string> blockLines)
    {
        var commands = new List<BootCommand>();
        foreach (var line in blockLines)
        {
            // `[ "$flag" = no ] || ip addr replace …`: the address waits for the command that sets that flag.
            var gate = BootGate.None;
            foreach (var argv in ShellWords.SimpleCommands(line))
            {
                if (argv is ["[", var flag, "=", "no", "]"])
                {
                    gate = GateOf(flag);
                    continue;
                }

                if (FromArgv(argv) is { } command)
                {
                    commands.Add(command is BootAddress a ? a with { Gate = gate } : command);
                }
            }
        }

        return new BootCommands(commands);
    }

    /// <summary>The flag the rc.local block sets for each gate; the renderer and the reader share it.</summary>
    public static string? FlagOf(BootGate gate) => gate switch
    {
        BootGate.ArpRules => "lvsdirect_arp",
        BootGate.Sysctls => "lvsdirect_sysctl",
        BootGate.NftTable => "lvsdirect_nft",
        _ => null,
    };

    private static BootGate GateOf(string flag) =>
        Enum.GetValues<BootGate>().FirstOrDefault(g => "$" + FlagOf(g) == flag);

    /// <summary>The commands of LvsDirect's unit: its ExecStart= lines, each an argument vector (a leading "-" only lets it fail).</summary>
    public static BootCommands ReadUnit(string unitText) =>
        new(unitText.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))
            .Select(l => l["ExecStart=".Length..].TrimStart('-', '@', ':', '+', '!'))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(a => a.Length > 0)
            .Select(a => FromArgv([Path.GetFileName(a[0]), .. a[1..]]))
            .OfType<BootCommand>()
            .ToList());

    /// <summary>The change one argument vector makes, or null when it makes none the model knows (a test, a deletion).</summary>
    private static BootCommand? FromArgv(IReadOnlyList<string> argv) => argv.Count == 0 ? null : argv[0] switch
    {
        "sysctl" => ReadSysctl(argv),
        "arptables" => ReadArptables(argv),
        "iptables" => ReadIptables(argv),
        "ip" => ReadIp(argv),
        "nft" when argv is [_, "-f", var file] => new BootNftLoad(file),
        _ => null,
    };

    private static BootSysctls? ReadSysctl(IReadOnlyList<string> argv)
    {
        var settings = new List<(SysctlKey, int)>();
        foreach (var a in argv.Skip(1).Where(a => !a.StartsWith('-')))
        {
            var eq = a.IndexOf('=');
            var name = eq > 0 ? a[..eq].Trim() : string.Empty;
            var parts = name.Split('.');
            // net.ipv4.conf.<conf>.<key>, a dotted interface name spelt with slashes.
            if (parts is ["net", "ipv4", "conf", var conf, var key] && int.TryParse(a[(eq + 1)..], out var value))
            {
                settings.Add((new SysctlKey(conf.Replace('/', '.'), key), value));
            }
        }

        return settings.Count > 0 && argv.Contains("-w") ? new BootSysctls(settings) : null;
    }

    private static BootCommand? ReadArptables(IReadOnlyList<string> argv)
    {
        if (argv.Count >= 6 && argv[1] is "-I" or "--insert" && argv[3] == "1" && argv[4] == "-j")
        {
            return new BootArpChain(argv[5], argv[2]);
        }

        if (argv.Count < 3 || argv[1] is not ("-A" or "--append"))
        {
            return null;
        }

        var spec = argv.Skip(3).ToList();
        var rule = ArptablesRuleSet.Parse(ArptablesSyntax.RuleLine(argv[2], spec)).Rules.FirstOrDefault();
        var vip = rule?.Destination ?? rule?.Source;
        return vip is null ? null : new BootArpRule(vip, argv[2], spec);
    }

    private static BootRedirect? ReadIptables(IReadOnlyList<string> argv)
    {
        var append = argv.ToList().IndexOf("-A");
        var table = argv.ToList().IndexOf("-t");
        if (append < 0 || table < 0 || table + 1 >= argv.Count || argv[table + 1] != RedirectSyntax.Table)
        {
            return null;
        }

        return RedirectSyntax.TryParse(string.Join(' ', argv.Skip(append))) is { } rule ? new BootRedirect(rule) : null;
    }

    private static BootAddress? ReadIp(IReadOnlyList<string> argv)
    {
        var i = 1;
        while (i < argv.Count && argv[i].StartsWith('-'))
        {
            i++;
        }

        if (i + 2 >= argv.Count || argv[i] is not ("addr" or "address" or "a") || argv[i + 1] is not ("replace" or "add"))
        {
            return null;
        }

        var cidr = argv[i + 2].Split('/');
        if (!IPAddress.TryParse(cidr[0], out var address))
        {
            return null;
        }

        var prefix = cidr.Length > 1 && int.TryParse(cidr[1], out var p) ? p : address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        string? dev = null, label = null;
        IPAddress? broadcast = null;
        for (var k = i + 3; k + 1 < argv.Count; k++)
        {
            switch (argv[k])
            {
                case "dev":
                    dev = argv[++k];
                    break;
                case "label":
                    label = argv[++k];
                    break;
                case "broadcast" or "brd" when IPAddress.TryParse(argv[k + 1], out var b):
                    broadcast = b;
                    k++;
                    break;
            }
        }

        return dev is null ? null : new BootAddress(address, prefix, dev, label, broadcast);
    }
}

/// <summary>
/// Splits one line LvsDirect wrote into the simple commands of its and-or list (`a || b && c`), each as words:
/// quotes group words, redirections are dropped. This reads our own lines only; it is no shell parser.
/// </summary>
internal static class ShellWords
{
    public static IEnumerable<IReadOnlyList<string>> SimpleCommands(string line)
    {
        var current = new List<string>();
        var words = Words(line).ToList();
        for (var i = 0; i < words.Count; i++)
        {
            var (word, quoted) = words[i];
            if (!quoted && word is "||" or "&&" or ";" or "|")
            {
                yield return current;
                current = [];
                continue;
            }

            if (!quoted && IsRedirection(word))
            {
                // `2> /dev/null` names its file in the next word.
                if (word.EndsWith('>') || word.EndsWith('<'))
                {
                    i++;
                }

                continue;
            }

            current.Add(word);
        }

        yield return current;
    }

    private static bool IsRedirection(string word)
    {
        var at = word.TakeWhile(char.IsDigit).Count();
        return at < word.Length && word[at] is '>' or '<';
    }

    private static IEnumerable<(string Word, bool Quoted)> Words(string line)
    {
        var word = new System.Text.StringBuilder();
        var quoted = false;
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c is '\'' or '"')
            {
                var end = line.IndexOf(c, i + 1);
                end = end < 0 ? line.Length : end;
                word.Append(line, i + 1, end - i - 1);
                i = end;
                quoted = inWord = true;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    yield return (word.ToString(), quoted);
                }

                word.Clear();
                quoted = inWord = false;
                continue;
            }

            if (c == '#' && !inWord)
            {
                yield break;
            }

            word.Append(c);
            inWord = true;
        }

        if (inWord)
        {
            yield return (word.ToString(), quoted);
        }
    }
}

using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Persistence;

/// <summary>A VIP as the rc.local block recreates it; RealIP null means no ARP suppression for it.</summary>
public sealed record RcVip(IPAddress Address, int PrefixLength, string InterfaceName, string? Label, IPAddress? Broadcast, IPAddress? RealIP);

/// <summary>
/// The block LvsDirect owns in rc.local. It is plain POSIX sh run once at boot by rc-local.service, and must run
/// under whatever the shebang asks for (Debian's template is `#!/bin/sh -e`; admins add `set -euo pipefail`):
/// every command that may find its target already there or already gone is tested first or has its failure
/// caught, and a failed suppression only keeps its own VIP from being added (it is reported on stderr, which
/// the journal keeps), never stops the rest of the file. It is idempotent, because admins run rc.local by hand.
/// </summary>
public static partial class RcLocal
{
    public const string BeginMarker = "# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal";
    public const string EndMarker = "# END LvsDirect managed block";

    /// <summary>Set to "no" by the block when LvsDirect's chains or the jumps to them could not be put in place.</summary>
    private const string ChainsVariable = "lvsdirect_chains";

    /// <summary>Set to "no" by the block when the current VIP's suppression could not be put in place.</summary>
    private static readonly string VipVariable = BootCommands.FlagOf(BootGate.ArpRules)!;

    /// <summary>Set to "no" by the block when the sysctl method's settings could not be written.</summary>
    private static readonly string SysctlVariable = BootCommands.FlagOf(BootGate.Sysctls)!;

    /// <summary>Set to "no" by the block when the nftables method's table could not be loaded.</summary>
    private static readonly string NftVariable = BootCommands.FlagOf(BootGate.NftTable)!;

    [GeneratedRegex(@"^\s*exit(\s|;|$)")]
    private static partial Regex ExitLine();

    [GeneratedRegex(@"^\s*exec(\s|$)")]
    private static partial Regex ExecLine();

    [GeneratedRegex(@"<<(-?)\s*(['""]?)([A-Za-z_][A-Za-z0-9_]*)\2")]
    private static partial Regex HereDocument();

    [GeneratedRegex(@"^\s*(function\s+[A-Za-z_][\w-]*(\s*\(\s*\))?|[A-Za-z_][\w-]*\s*\(\s*\))\s*\{?\s*$")]
    private static partial Regex FunctionHead();

    /// <summary>RHEL keeps rc.local in /etc/rc.d (with /etc/rc.local a link to it); Debian in /etc.</summary>
    public static string DefaultPath(string root = "/") => DefaultPath(Directory.Exists(Path.Combine(root, "etc", "rc.d")), root);

    /// <summary>The same choice for a host whose folders are known otherwise (a remote one).</summary>
    public static string DefaultPath(bool hasRcD, string root = "/") =>
        hasRcD ? Path.Combine(root, "etc", "rc.d", "rc.local") : Path.Combine(root, "etc", "rc.local");

    /// <summary>
    /// The block's lines, markers included, for the commands <see cref="BootCommands.Create"/> gives. No VIPs, no
    /// block: exporting an empty configuration removes ours.
    /// </summary>
    public static IReadOnlyList<string> RenderBlock(
        ArptablesDialect dialect,
        IReadOnlyList<RcVip> vips,
        IReadOnlyList<(SysctlKey Key, int Value)>? sysctls = null,
        IReadOnlyList<RedirectRule>? redirects = null) =>
        RenderBlock(BootCommands.Create(dialect, vips, sysctls, redirects));

    /// <summary>
    /// The block for <paramref name="boot"/>, in its order. Around each command: chains and rules are tested
    /// before they are added, a failed suppression sets a flag that keeps only its own VIP's address from being
    /// added, and a failed address or REDIRECT rule is reported on stderr.
    /// </summary>
    public static IReadOnlyList<string> RenderBlock(BootCommands boot)
    {
        if (boot.IsEmpty)
        {
            return [];
        }

        var dialect = boot.Dialect ?? new ArptablesDialect(ArptablesFlavor.Nft);
        var chainsStarted = false;
        var vipStarted = new HashSet<IPAddress>();
        var lines = new List<string>
        {
            BeginMarker,
            "# LVS-DR real server: ARP suppression first, then each VIP only if its suppression is in place (see Get-Help about_LvsDirect).",
            "# Safe under sh -e and set -euo pipefail: nothing here fails because it is already there, and a failure skips only its VIP.",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}",
        };
        foreach (var command in boot.Commands)
        {
            switch (command)
            {
                case BootNftLoad n:
                    lines.Add($"{NftVariable}=yes");
                    lines.Add($"{n.Describe()} || {NftVariable}=no");
                    break;
                case BootSysctls s:
                    lines.Add($"{SysctlVariable}=yes");
                    lines.Add($"{s.Describe()} || {SysctlVariable}=no");
                    break;
                case BootArpChain c:
                    if (!chainsStarted)
                    {
                        chainsStarted = true;
                        lines.Add($"{ChainsVariable}=yes");
                    }

                    lines.Add($"arptables -N {c.OwnChain} 2>/dev/null || true");
                    lines.AddRange(Ensure(dialect, [c.BuiltinChain, "-j", c.OwnChain], string.Join(' ', c.Arguments), ChainsVariable));
                    break;
                case BootRedirect r:
                    // -C first: a rule already in place (rc.local run by hand) is neither duplicated nor moved.
                    var spec = string.Join(' ', r.Spec);
                    lines.Add($"iptables -t {RedirectSyntax.Table} -C {RedirectSyntax.Chain} {spec} 2>/dev/null || {r.Describe()} || echo 'LvsDirect: the REDIRECT rule for {r.Rule.VirtualIP} could not be added' >&2");
                    break;
                case BootArpRule rule:
                    if (vipStarted.Add(rule.Vip))
                    {
                        lines.Add($"{VipVariable}=${ChainsVariable}");
                    }

                    lines.AddRange(Ensure(dialect, [rule.Chain, .. rule.Spec], string.Join(' ', rule.Arguments), VipVariable));
                    break;
                case BootAddress a:
                    var add = $"{a.Describe()} || echo 'LvsDirect: {a.Address}/{a.PrefixLength} could not be added to {a.InterfaceName}' >&2";
                    var gate = BootCommands.FlagOf(a.Gate);
                    if (gate is null)
                    {
                        lines.Add(add);
                        break;
                    }

                    lines.Add($"[ \"${gate}\" = no ] || {add}");
                    lines.Add($"[ \"${gate}\" = yes ] || echo 'LvsDirect: {a.Address} is not added: its ARP suppression could not be put in place' >&2");
                    break;
            }
        }

        lines.Add(EndMarker);
        return lines;
    }

    /// <summary>The commands of the block in <paramref name="content"/> (a whole rc.local), read back; empty without a block.</summary>
    public static BootCommands ReadBlock(string? content) => BootCommands.ReadBlock(BlockLines(content));

    /// <summary>The lines between our markers, trimmed, comments and blank lines left out; none without a block.</summary>
    public static IReadOnlyList<string> BlockLines(string? content)
    {
        if (content is null)
        {
            return [];
        }

        var lines = content.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var begin = lines.IndexOf(BeginMarker);
        var end = lines.IndexOf(EndMarker);
        return begin < 0 || end < begin ? [] : lines.Skip(begin + 1).Take(end - begin - 1).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToList();
    }

    /// <summary>
    /// One rule made sure of: arptables-nft tests it with -C and adds it only when missing (no window, no
    /// duplicate); arptables-legacy and arptables_jf have no -C, so any copy is deleted first (its absence caught)
    /// and the rule added again. A failed add sets <paramref name="flag"/> to no.
    /// </summary>
    private static IEnumerable<string> Ensure(ArptablesDialect dialect, string[] chainAndSpec, string add, string flag)
    {
        var rule = string.Join(' ', chainAndSpec);
        if (dialect.AddressLists)
        {
            yield return $"arptables -C {rule} 2>/dev/null || arptables {add} || {flag}=no";
            yield break;
        }

        yield return $"arptables -D {rule} 2>/dev/null || true";
        yield return $"arptables {add} || {flag}=no";
    }

    /// <summary>`addr replace VIP/PREFIX dev IFACE [label L] [broadcast B] [nodad]`: idempotent, for every boot script.</summary>
    public static IReadOnlyList<string> AddressArguments(RcVip v)
    {
        var iface = InputValidation.ValidateInterfaceName(v.InterfaceName);
        var args = new List<string> { "addr", "replace", $"{v.Address}/{v.PrefixLength}", "dev", iface };
        if (v.Label is not null)
        {
            args.AddRange(["label", InputValidation.ValidateLabel(v.Label, iface)]);
        }

        if (v.Broadcast is not null)
        {
            args.AddRange(["broadcast", v.Broadcast.ToString()]);
        }

        // An IPv6 VIP must be usable at once: DAD would hold it tentative and could find the director's copy.
        if (v.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            args.Add("nodad");
        }

        return args;
    }

    public static bool HasShebang(string content) => content.StartsWith("#!", StringComparison.Ordinal);

    /// <summary>True when the first line ends in CR: the kernel then looks for an interpreter named "/bin/sh\r".</summary>
    public static bool HasCrlfShebang(string content) =>
        HasShebang(content) && content.IndexOf('\n') is var nl && nl > 0 && content[nl - 1] == '\r';

    /// <summary>
    /// Why the block in <paramref name="content"/> would not run at boot, or null when it would (or there is no
    /// block): the file is not executable, has no usable `#!` line or a CRLF one, or the block comes after an
    /// `exit` or `exec`, inside a here-document or inside a function body. A shell is not parsed here; these are
    /// the layouts met on real servers.
    /// </summary>
    public static string? WhyBlockCannotRun(string content, bool executable)
    {
        var lines = content.Split('\n');
        var begin = Array.FindIndex(lines, l => l.TrimEnd('\r') == BeginMarker);
        if (begin < 0)
        {
            return null;
        }

        if (!executable)
        {
            return "the file is not executable, so systemd's rc-local.service skips it at boot";
        }

        if (!HasShebang(content))
        {
            return "the file has no '#!' line, so it cannot be executed (rc-local.service runs it as a program)";
        }

        if (HasCrlfShebang(content))
        {
            return "its first line ends in \\r (CRLF line endings), so the kernel looks for an interpreter whose name ends in \\r and cannot run the file; convert it (sed -i 's/\\r$//' FILE), then Export-RcLocal";
        }

        if (!lines[0][2..].TrimStart().StartsWith('/'))
        {
            return $"its '#!' line ('{lines[0]}') names no absolute interpreter path, so the kernel cannot run it";
        }

        string? hereDocument = null;
        var hereStart = 0;
        var stripTabs = false;
        var functionStart = -1;
        var depth = 0;
        for (var i = 1; i < begin; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (hereDocument is not null)
            {
                if ((stripTabs ? line.TrimStart('\t') : line) == hereDocument)
                {
                    hereDocument = null;
                }

                continue;
            }

            var code = line.TrimStart();
            if (code.StartsWith('#'))
            {
                continue;
            }

            if (depth == 0 && ExitLine().IsMatch(line))
            {
                return $"line {i + 1} ('{line.Trim()}') ends the script before the block is reached";
            }

            if (depth == 0 && ExecLine().IsMatch(line))
            {
                return $"line {i + 1} ('{line.Trim()}') replaces the shell before the block is reached";
            }

            var here = HereDocument().Match(line);
            if (here.Success)
            {
                hereDocument = here.Groups[3].Value;
                stripTabs = here.Groups[1].Value == "-";
                hereStart = i + 1;
            }

            if (depth == 0 && FunctionHead().IsMatch(line))
            {
                functionStart = i + 1;
            }

            if (functionStart > 0)
            {
                depth += line.Count(c => c == '{') - line.Count(c => c == '}');
                if (depth <= 0 && line.Contains('}'))
                {
                    functionStart = -1;
                    depth = 0;
                }
            }
        }

        if (hereDocument is not null)
        {
            return $"the block is inside the here-document that starts on line {hereStart} ('<<{hereDocument}'): it is text, not commands";
        }

        return functionStart > 0 && depth > 0
            ? $"the block is inside the body of the function that starts on line {functionStart}: it runs only if the function is called"
            : null;
    }

    /// <summary>
    /// The new file content: our block right after the `#!` line (or at the very top), where nothing the rest of
    /// the file does (an exit, a here-document, a function) can keep it from running; a block of ours elsewhere
    /// is moved there, and an empty block removes ours. Every other line is kept byte for byte. A file with CRLF
    /// line endings gets the block in CRLF too, so its line endings stay consistent.
    /// </summary>
    public static string Merge(string? existing, IReadOnlyList<string> block)
    {
        var hasBlock = block.Count > 0;
        if (string.IsNullOrEmpty(existing))
        {
            // The layout a merge into an existing file gives, so the next export finds nothing to change.
            return hasBlock ? $"#!/bin/sh\n{string.Join('\n', block)}\n\nexit 0\n" : existing ?? string.Empty;
        }

        var cr = existing.Contains("\r\n", StringComparison.Ordinal) ? "\r" : string.Empty;
        var lines = existing.Split('\n').ToList();
        var trailingNewline = existing.EndsWith('\n');
        if (trailingNewline)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var plain = lines.Select(l => l.TrimEnd('\r')).ToList();
        var begin = plain.IndexOf(BeginMarker);
        var end = plain.IndexOf(EndMarker);
        if ((begin < 0) != (end < 0) || end < begin || (begin >= 0 && plain.LastIndexOf(BeginMarker) != begin))
        {
            throw new LvsException(LvsErrorKind.ParseError,
                "rc.local has a damaged LvsDirect block (a begin marker without its end marker, or two blocks); fix it by hand, then export again.");
        }

        if (begin >= 0)
        {
            // The blank line that follows the block is the block's: it was written with it.
            var count = end - begin + 1 + (end + 1 < plain.Count && plain[end + 1].Length == 0 ? 1 : 0);
            lines.RemoveRange(begin, count);
        }

        if (hasBlock)
        {
            var at = lines.Count > 0 && HasShebang(lines[0]) ? 1 : 0;
            lines.InsertRange(at, [.. block.Select(l => l + cr), cr]);
            trailingNewline |= at == lines.Count - block.Count - 1;
        }

        return string.Join('\n', lines) + (trailingNewline ? "\n" : string.Empty);
    }
}

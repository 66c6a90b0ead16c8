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
/// The block LvsDirect owns in rc.local. It is plain POSIX sh run once at boot by rc-local.service, and is
/// idempotent anyway (delete-then-append for rules, `ip addr replace` for addresses), because admins run
/// rc.local by hand too.
/// </summary>
public static partial class RcLocal
{
    public const string BeginMarker = "# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal";
    public const string EndMarker = "# END LvsDirect managed block";

    [GeneratedRegex(@"^exit(\s+\S+)?\s*$")]
    private static partial Regex TopLevelExit();

    /// <summary>RHEL keeps rc.local in /etc/rc.d (with /etc/rc.local a link to it); Debian in /etc.</summary>
    public static string DefaultPath(string root = "/") => DefaultPath(Directory.Exists(Path.Combine(root, "etc", "rc.d")), root);

    /// <summary>The same choice for a host whose folders are known otherwise (a remote one).</summary>
    public static string DefaultPath(bool hasRcD, string root = "/") =>
        hasRcD ? Path.Combine(root, "etc", "rc.d", "rc.local") : Path.Combine(root, "etc", "rc.local");

    /// <summary>
    /// The block's lines, markers included: suppression for every VIP first (the ARP sysctls of the sysctl
    /// method, then the arptables rules), then the addresses. No VIPs, no block: exporting an empty
    /// configuration removes ours.
    /// </summary>
    public static IReadOnlyList<string> RenderBlock(
        ArptablesDialect dialect,
        IReadOnlyList<RcVip> vips,
        IReadOnlyList<(SysctlKey Key, int Value)>? sysctls = null,
        IReadOnlyList<RedirectRule>? redirects = null)
    {
        if (vips.Count == 0 && redirects is not { Count: > 0 })
        {
            return [];
        }

        var lines = new List<string>
        {
            BeginMarker,
            "# LVS-DR real server: ARP suppression first, then the VIPs (see Get-Help about_LvsDirect).",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH",
        };
        if (sysctls is { Count: > 0 })
        {
            lines.Add("sysctl -q -w " + string.Join(' ', sysctls.Select(s => $"{s.Key.Name}={s.Value}")));
        }
        foreach (var v in vips.Where(v => v.RealIP is not null))
        {
            var input = string.Join(' ', ArptablesSyntax.InputDropSpec(v.Address));
            var output = string.Join(' ', ArptablesSyntax.OutputMangleSpec(v.Address, v.RealIP!));
            lines.Add($"arptables -D {dialect.InputChain} {input} 2>/dev/null");
            lines.Add($"arptables -A {dialect.InputChain} {input}");
            lines.Add($"arptables -D {dialect.OutputChain} {output} 2>/dev/null");
            lines.Add($"arptables -A {dialect.OutputChain} {output}");
        }

        // -C first: a rule already in place (rc.local run by hand) is neither duplicated nor moved.
        foreach (var r in redirects ?? [])
        {
            var spec = string.Join(' ', RedirectSyntax.Spec(r.VirtualIP, r.Protocol, r.Port));
            lines.Add($"iptables -t {RedirectSyntax.Table} -C {RedirectSyntax.Chain} {spec} 2>/dev/null || iptables -t {RedirectSyntax.Table} -A {RedirectSyntax.Chain} {spec}");
        }

        foreach (var v in vips)
        {
            lines.Add("ip " + string.Join(' ', AddressArguments(v)));
        }

        lines.Add(EndMarker);
        return lines;
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

    /// <summary>
    /// The new file content: our block replaced in place, or inserted before the first top-level `exit` (after
    /// which it would never run), or appended; an empty block removes ours. Every other line is kept as it was.
    /// </summary>
    public static string Merge(string? existing, IReadOnlyList<string> block)
    {
        var hasBlock = block.Count > 0;
        if (string.IsNullOrEmpty(existing))
        {
            return hasBlock ? $"#!/bin/sh\n\n{string.Join('\n', block)}\n\nexit 0\n" : existing ?? string.Empty;
        }

        var lines = existing.Split('\n').ToList();
        var trailingNewline = existing.EndsWith('\n');
        if (trailingNewline)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var begin = lines.IndexOf(BeginMarker);
        var end = lines.IndexOf(EndMarker);
        if ((begin < 0) != (end < 0) || end < begin || (begin >= 0 && lines.LastIndexOf(BeginMarker) != begin))
        {
            throw new LvsException(LvsErrorKind.ParseError,
                "rc.local has a damaged LvsDirect block (a begin marker without its end marker, or two blocks); fix it by hand, then export again.");
        }

        if (begin >= 0)
        {
            lines.RemoveRange(begin, end - begin + 1);
            if (hasBlock)
            {
                lines.InsertRange(begin, block);
            }
            else if (begin < lines.Count && lines[begin].Length == 0 && begin > 0 && lines[begin - 1].Length == 0)
            {
                lines.RemoveAt(begin);
            }
        }
        else if (hasBlock)
        {
            var exit = lines.FindIndex(l => TopLevelExit().IsMatch(l));
            var insert = new List<string>(block) { string.Empty };
            if (exit < 0)
            {
                insert.Insert(0, string.Empty);
                insert.RemoveAt(insert.Count - 1);
                lines.AddRange(insert);
                trailingNewline = true;
            }
            else
            {
                lines.InsertRange(exit, insert);
            }
        }

        return string.Join('\n', lines) + (trailingNewline ? "\n" : string.Empty);
    }
}

using System.Globalization;
using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Parsing;

/// <summary>A REDIRECT rule LvsDirect owns, as read back from iptables.</summary>
public sealed record RedirectRule(IPAddress VirtualIP, RedirectProtocol Protocol, int Port, string RawLine)
{
    public (IPAddress, RedirectProtocol, int) Key => (VirtualIP, Protocol, Port);
}

/// <summary>
/// The iptables side of the REDIRECT method. LvsDirect's rules carry the comment "lvsdirect", so it can tell them
/// from anyone else's rules in the same chain and never touches those; they are read with
/// `iptables -t nat -S PREROUTING`, whose output is the rule spec exactly as iptables normalises it.
/// </summary>
public static class RedirectSyntax
{
    public const string Comment = "lvsdirect";
    public const string Table = "nat";
    public const string Chain = "PREROUTING";

    public static ToolCommand ListCommand { get; } = ToolCommand.Create("iptables", "-t", Table, "-S", Chain);

    public static string ProtocolName(RedirectProtocol p) => p == RedirectProtocol.Tcp ? "tcp" : "udp";

    /// <summary>The rule spec after the chain, in the order iptables prints it, so -S output compares equal.</summary>
    public static string[] Spec(IPAddress vip, RedirectProtocol protocol, int port)
    {
        var p = ProtocolName(protocol);
        return ["-d", $"{vip}/32", "-p", p, "-m", p, "--dport", port.ToString(CultureInfo.InvariantCulture), "-m", "comment", "--comment", Comment, "-j", "REDIRECT"];
    }

    public static string RuleLine(IPAddress vip, RedirectProtocol protocol, int port) => $"-A {Chain} " + string.Join(' ', Spec(vip, protocol, port));

    /// <summary>LvsDirect's rules in `iptables -S` output; every other line (foreign rules, policies) is ignored.</summary>
    public static IReadOnlyList<RedirectRule> Parse(string text)
    {
        var result = new List<RedirectRule>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (TryParse(line) is { } rule)
            {
                result.Add(rule);
            }
        }

        return result;
    }

    /// <summary>
    /// A rule is ours only when it is exactly the shape LvsDirect writes: a destination /32, tcp or udp, one
    /// destination port, our comment, REDIRECT without options. Anything more is someone else's rule.
    /// </summary>
    public static RedirectRule? TryParse(string line)
    {
        var t = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 2 || t[0] != "-A" || t[1] != Chain)
        {
            return null;
        }

        IPAddress? vip = null;
        string? proto = null;
        int? port = null;
        string? comment = null;
        string? target = null;
        for (var i = 2; i < t.Length; i++)
        {
            var next = i + 1 < t.Length ? t[i + 1] : null;
            switch (t[i])
            {
                case "-d" when next is not null && next.EndsWith("/32", StringComparison.Ordinal) && IPAddress.TryParse(next[..^3], out var a):
                    vip = a;
                    i++;
                    break;
                case "-p" when next is "tcp" or "udp":
                    proto = next;
                    i++;
                    break;
                case "-m" when next is "tcp" or "udp" or "comment":
                    i++;
                    break;
                case "--dport" when int.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536:
                    port = p;
                    i++;
                    break;
                case "--comment" when next is not null:
                    comment = next;
                    i++;
                    break;
                case "-j" when next is not null:
                    target = next;
                    i++;
                    break;
                default:
                    return null;
            }
        }

        if (vip is null || proto is null || port is null || comment != Comment || target != "REDIRECT")
        {
            return null;
        }

        return new RedirectRule(vip, proto == "tcp" ? RedirectProtocol.Tcp : RedirectProtocol.Udp, port.Value, line);
    }
}

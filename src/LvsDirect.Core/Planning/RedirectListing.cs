using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Planning;

/// <summary>Which of LvsDirect's REDIRECT rules a request names: a VIP, with its ports and protocol when given (null: all of them).</summary>
public sealed record RedirectSelector(IPAddress? VirtualIP, IReadOnlyCollection<int>? Ports, RedirectProtocol? Protocol)
{
    public bool Matches(RedirectRule rule) =>
        (VirtualIP is null || VirtualIP.Equals(rule.VirtualIP)) && (Ports is null || Ports.Contains(rule.Port)) && (Protocol is null || Protocol == rule.Protocol);
}

/// <summary>LvsDirect's REDIRECT rules as output objects, and the rules a request selects.</summary>
public static class RedirectListing
{
    /// <summary>The rules any of <paramref name="selectors"/> names, in the order iptables lists them.</summary>
    public static IReadOnlyList<RedirectRule> Select(IEnumerable<RedirectRule> current, IReadOnlyCollection<RedirectSelector> selectors) =>
        current.Where(r => selectors.Any(s => s.Matches(r))).ToList();

    public static LvsRedirect ToOutput(RedirectRule r) =>
        new() { VirtualIP = r.VirtualIP, Port = r.Port, Protocol = r.Protocol, Rule = r.RawLine };

    /// <summary>The rule one requested redirect is, as iptables -S prints it.</summary>
    public static LvsRedirect ToOutput(IPAddress vip, RedirectProtocol protocol, int port) =>
        new() { VirtualIP = vip, Port = port, Protocol = protocol, Rule = RedirectSyntax.RuleLine(vip, protocol, port) };

    /// <summary>A redirect's VIP: IPv4 only, as iptables (not ip6tables) redirects it.</summary>
    public static IPAddress ParseVip(string text) => InputValidation.ParseIPv4(text, "virtual IP");
}

using System.Net;
using LvsDirect.Core.Host;
using LvsDirect.Core.Parsing;
using Xunit;

namespace LvsDirect.Tests.Diagnostics;

/// <summary>
/// The rule that could take a VIP's ARP ahead of its own rule: looked up by address for rules of one address, in
/// order for the rest. It must name the same rule as trying every rule ahead in the kernel's order.
/// </summary>
public class ChainViewTests
{
    private const string Save =
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:LVSDIRECT-IN -\n:LVSDIRECT-OUT -\n"
        + "-A OUTPUT -j mangle -s 192.0.2.30 --mangle-ip-s 192.0.2.11\n"
        + "-A OUTPUT -j ACCEPT -s 198.51.100.0/255.255.255.0\n"
        + "-A OUTPUT -j LVSDIRECT-OUT\n"
        + "-A OUTPUT -j DROP -s 192.0.2.31\n"
        + "-A OUTPUT -j mangle -s 192.0.2.30 --mangle-ip-s 192.0.2.12\n"
        + "-A OUTPUT -j ACCEPT ! -s 192.0.2.32\n"
        + "-A OUTPUT -j mangle -s 192.0.2.31 --mangle-ip-s 192.0.2.11\n"
        + "-A OUTPUT -j ACCEPT -s 203.0.113.0/24\n"
        + "-A OUTPUT -j ACCEPT --opcode 2\n"
        + "-A OUTPUT -j mangle -s 192.0.2.32 --mangle-ip-s 192.0.2.11\n"
        + "-A OUTPUT -j ACCEPT -s not-an-address\n"
        + "-A OUTPUT -j mangle -s 192.0.2.33 --mangle-ip-s 192.0.2.11\n"
        + "-A INPUT -j DROP -d 192.0.2.30\n-A INPUT -j ACCEPT -d 192.0.2.31\n-A INPUT -j ACCEPT ! -d 192.0.2.30\n-A INPUT -j DROP -d 192.0.2.32\n";

    public static TheoryData<string, bool> Addresses()
    {
        var data = new TheoryData<string, bool>();
        foreach (var a in new[] { "192.0.2.30", "192.0.2.31", "192.0.2.32", "192.0.2.33", "198.51.100.7", "203.0.113.9", "192.0.2.99" })
        {
            data.Add(a, true);
            data.Add(a, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Addresses))]
    public void AtEveryPosition_NamesTheRuleThatTryingEachRuleInOrderFinds(string address, bool input)
    {
        var rules = ArptablesRuleSet.Parse(Save);
        var vip = IPAddress.Parse(address);
        foreach (var chain in new[] { "INPUT", "OUTPUT" })
        {
            var list = rules.RulesOf(chain);
            var view = new ChainView(list);
            for (var position = 0; position <= list.Count; position++)
            {
                Assert.Same(Naive(list, position, vip, input), view.FirstAcceptingBefore(position, vip, input));
            }
        }
    }

    [Fact]
    public void ThousandsOfOneAddressRules_EachReachesItsOwnVip_AndARepeatIsTakenByTheFirst()
    {
        var save = "*filter\n:OUTPUT ACCEPT\n" + string.Concat(Enumerable.Range(0, 4000).Select(i => $"-A OUTPUT -j mangle -s 198.18.{i / 250}.{i % 250 + 1} --mangle-ip-s 192.0.2.11\n"));
        var list = ArptablesRuleSet.Parse(save).RulesOf("OUTPUT");
        var view = new ChainView(list);

        // Each VIP's own rule is reached (no other rule takes its address); a repeat of an earlier address is not.
        for (var i = 0; i < list.Count; i++)
        {
            Assert.Null(view.FirstAcceptingBefore(i, list[i].Source!, input: false));
        }

        Assert.Same(list[0], view.FirstAcceptingBefore(list.Count, list[0].Source!, input: false));
    }

    /// <summary>What the kernel does: every rule ahead that ends without a drop and whose match does not leave the VIP out.</summary>
    private static Core.Model.ArpRule? Naive(IReadOnlyList<Core.Model.ArpRule> rules, int position, IPAddress vip, bool input)
    {
        for (var i = 0; i < position; i++)
        {
            var r = rules[i];
            if (r.Target is not (null or "DROP" or "CLASSIFY" or "LVSDIRECT-IN" or "LVSDIRECT-OUT") && !ArptablesRuleSet.Excludes(r, vip, input))
            {
                return r;
            }
        }

        return null;
    }
}

using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using Xunit;

namespace LvsDirect.Tests.Parsing;

public class ArptablesListingTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "arptables", name));

    [Fact]
    public void NftListing_BecomesSaveTextWithPoliciesUserChainsAndEveryRule()
    {
        var text = ArptablesListing.ToSaveText(Fixture("nft-list.txt"));

        Assert.Equal(
            "*filter\n:INPUT ACCEPT\n:OUTPUT DROP\n:FOO -\n-A INPUT -j DROP -d 203.0.113.100\n-A INPUT -j ACCEPT -i eth0 -s 192.0.2.99\n"
            + "-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n-A FOO -j ACCEPT -i eth0 --opcode 1\n",
            text);
    }

    [Fact]
    public void NftListing_SeedRulesAreRecognised()
    {
        var rules = ArptablesRuleSet.Parse(ArptablesListing.ToSaveText(Fixture("nft-list.txt")));
        var dialect = new ArptablesDialect(ArptablesFlavor.Nft);
        var vip = IPAddress.Parse("203.0.113.100");

        Assert.Single(rules.Rules, r => r.IsInputDropFor(vip, dialect));
        Assert.Single(rules.Rules, r => r.IsOutputMangleFor(vip, dialect));
    }

    [Fact]
    public void LegacyListing_TrailingSpacesAndForwardChainAreHandled()
    {
        var rules = ArptablesRuleSet.Parse(ArptablesListing.ToSaveText(Fixture("legacy-list.txt")));
        var dialect = new ArptablesDialect(ArptablesFlavor.Legacy);
        var vip = IPAddress.Parse("203.0.113.101");

        Assert.Contains("FORWARD", rules.ChainNames);
        Assert.Single(rules.Rules, r => r.IsInputDropFor(vip, dialect));
        Assert.Equal(IPAddress.Parse("192.0.2.11"), Assert.Single(rules.Rules, r => r.IsOutputMangleFor(vip, dialect)).MangleIpSource);
    }

    [Fact]
    public void EmptyListing_IsAnEmptyRuleSet() => Assert.Equal(string.Empty, ArptablesListing.ToSaveText(string.Empty));

    [Fact]
    public void RuleBeforeAnyChain_IsAParseError() =>
        Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => ArptablesListing.ToSaveText("-j DROP -d 203.0.113.1\n")).Kind);
}

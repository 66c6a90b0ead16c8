using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using Xunit;

namespace LvsDirect.Tests.Parsing;

public class ArptablesRuleSetTests
{
    private static readonly ArptablesDialect Nft = new(ArptablesFlavor.Nft);
    private static readonly ArptablesDialect Legacy = new(ArptablesFlavor.Legacy);
    private static readonly ArptablesDialect Jf = new(ArptablesFlavor.Jf);
    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");
    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.10");

    private static string FixtureText(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "arptables", name));

    private static ArptablesRuleSet Fixture(string name) => ArptablesRuleSet.Parse(FixtureText(name));

    private static IPAddress Ip(string text) => IPAddress.Parse(text);

    /// <summary>The fixture as arptables-restore should get it back: comments and trailing blanks gone.</summary>
    private static List<string> MeaningfulLines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    [Theory]
    [InlineData("nft-seed.txt", ArptablesFlavor.Nft)]
    [InlineData("nft-counters.txt", ArptablesFlavor.Nft)]
    [InlineData("bad-order.txt", ArptablesFlavor.Nft)]
    [InlineData("legacy-seed.txt", ArptablesFlavor.Legacy)]
    [InlineData("jf-seed.txt", ArptablesFlavor.Jf)]
    public void Parse_EachFlavorsSaveOutput_DetectsThatFlavor(string fixture, ArptablesFlavor expected)
    {
        Assert.Equal(expected, Fixture(fixture).DetectedFlavor);
    }

    [Fact]
    public void Parse_EmptySaveOutput_HasNoFlavorRulesOrChains()
    {
        var set = Fixture("empty.txt");

        Assert.Null(set.DetectedFlavor);
        Assert.Empty(set.Rules);
        Assert.Empty(set.ChainNames);
    }

    [Fact]
    public void Parse_NftOptionOrder_RecognisesSeedInputRule()
    {
        var rule = Assert.Single(Fixture("nft-seed.txt").Rules, r => r.IsInputDropFor(Vip, Nft));

        Assert.Equal("-A INPUT -j DROP -d 203.0.113.100", rule.RawLine);
        Assert.Equal(new ArpRule("filter", "INPUT", "DROP", null, Vip, null, false, "-A INPUT -j DROP -d 203.0.113.100"), rule);
    }

    [Fact]
    public void Parse_NftOptionOrder_RecognisesSeedOutputRuleAndItsRealIp()
    {
        var rule = Assert.Single(Fixture("nft-seed.txt").Rules, r => r.IsOutputMangleFor(Vip, Nft));

        Assert.Equal("-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.10", rule.RawLine);
        Assert.Equal(Rip, rule.MangleIpSource);
    }

    [Fact]
    public void Parse_NftSeed_ForeignRulesMentioningTheVipAreNotSeedRules()
    {
        var rules = Fixture("nft-seed.txt").Rules;

        var withInterface = Assert.Single(rules, r => r.RawLine == "-A INPUT -j DROP -i vA -d 203.0.113.100");
        var macMangle = Assert.Single(rules, r => r.RawLine == "-A OUTPUT -j mangle -s 203.0.113.100 --mangle-mac-s 02:00:00:00:00:02");
        Assert.True(withInterface.HasOtherMatches);
        Assert.Equal(Vip, withInterface.Destination);
        Assert.True(macMangle.HasOtherMatches);
        Assert.Null(macMangle.MangleIpSource);
        Assert.Single(rules, r => r.IsInputDropFor(Vip, Nft));
        Assert.Single(rules, r => r.IsOutputMangleFor(Vip, Nft));
    }

    [Fact]
    public void Parse_WiderMask_IsNotASingleAddressMatch()
    {
        var rule = Assert.Single(Fixture("nft-seed.txt").Rules, r => r.RawLine == "-A INPUT -j DROP -d 203.0.113.0/24");

        Assert.True(rule.HasOtherMatches);
        Assert.False(rule.IsInputDropFor(Ip("203.0.113.0"), Nft));
    }

    [Fact]
    public void Parse_NegatedDestination_IsNotASingleAddressMatch()
    {
        var rule = Assert.Single(Fixture("nft-seed.txt").Rules, r => r.RawLine == "-A INPUT -j ACCEPT ! -d 203.0.113.50");

        Assert.True(rule.HasOtherMatches);
        Assert.Equal("ACCEPT", rule.Target);
    }

    [Theory]
    [InlineData("-A INPUT -d ! 203.0.113.100 -j DROP")]
    [InlineData("-A INPUT -d 203.0.113.100/31 -j DROP")]
    [InlineData("-A INPUT -d 203.0.113.100/255.255.255.0 -j DROP")]
    [InlineData("-A INPUT -d 203.0.113.100 -j DROP -c 5 7")]
    [InlineData("-A INPUT -d 203.0.113.100 -j DROP --opcode 1")]
    [InlineData("-A INPUT -d 203.0.113.100 -j DROP -i *")]
    [InlineData("-A INPUT -d 203.0.113.100 -s 192.0.2.1 -j DROP")]
    [InlineData("-A INPUT -d 203.0.113 -j DROP")]
    public void Parse_InputRuleWithAnythingMore_IsNotTheSeedRule(string line)
    {
        var rule = Assert.Single(ArptablesRuleSet.Parse("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n" + line + "\n").Rules);

        Assert.False(rule.IsInputDropFor(Vip, Nft));
    }

    [Theory]
    [InlineData("-A INPUT -d 203.0.113.100/32 -j DROP")]
    [InlineData("-A INPUT -d 203.0.113.100/255.255.255.255 -j DROP")]
    [InlineData("-A INPUT --destination-ip 203.0.113.100 --jump DROP")]
    [InlineData("[12:336] -A INPUT -j DROP -d 203.0.113.100   ")]
    [InlineData("--append INPUT -j DROP -d 203.0.113.100")]
    public void Parse_SingleAddressSpellings_AreTheSeedInputRule(string line)
    {
        var rule = Assert.Single(ArptablesRuleSet.Parse("*filter\n:INPUT ACCEPT\n" + line + "\n").Rules);

        Assert.True(rule.IsInputDropFor(Vip, Nft));
    }

    [Fact]
    public void Parse_LongOptionSpellings_AreTheSeedOutputRule()
    {
        var rule = Assert.Single(ArptablesRuleSet.Parse("-A OUTPUT --source-ip 203.0.113.100 --jump mangle --mangle-ip-s 192.0.2.10\n").Rules);

        Assert.True(rule.IsOutputMangleFor(Vip, Nft));
        Assert.Equal("filter", rule.Table);
    }

    [Fact]
    public void Parse_ShorterAddress_NeverMatchesLongerOne()
    {
        var rules = Fixture("nft-seed.txt").Rules;

        Assert.DoesNotContain(rules, r => r.IsInputDropFor(Ip("203.0.113.10"), Nft) || r.IsOutputMangleFor(Ip("203.0.113.10"), Nft));
        Assert.Equal("-A INPUT -j DROP -d 203.0.113.1", Assert.Single(rules, r => r.IsInputDropFor(Ip("203.0.113.1"), Nft)).RawLine);
        Assert.Equal("-A OUTPUT -j mangle -s 203.0.113.1 --mangle-ip-s 192.0.2.10", Assert.Single(rules, r => r.IsOutputMangleFor(Ip("203.0.113.1"), Nft)).RawLine);
    }

    [Fact]
    public void Parse_NftSeed_ListsChainsAndEveryRule()
    {
        var set = Fixture("nft-seed.txt");

        Assert.Equal(["INPUT", "OUTPUT", "FOO"], set.ChainNames);
        Assert.Equal(13, set.Rules.Count);
        Assert.Equal(["INPUT", "FOO"], set.Rules.Where(r => r.Target == "FOO" || r.Chain == "FOO").Select(r => r.Chain));
    }

    [Fact]
    public void Parse_NftCounters_StripsCountersFromRawLines()
    {
        var withCounters = Fixture("nft-counters.txt").Rules;

        Assert.Equal(Fixture("nft-seed.txt").Rules, withCounters.Take(13));
        Assert.Equal("-A FOO -j DROP -d 203.0.113.9", withCounters[13].RawLine);
        Assert.False(withCounters[13].HasOtherMatches);
    }

    [Fact]
    public void Parse_LegacySaveScriptOutput_RecognisesSeedRulesDespiteTrailingSpace()
    {
        var set = Fixture("legacy-seed.txt");

        Assert.Equal("-A INPUT -j DROP -d 203.0.113.100", Assert.Single(set.Rules, r => r.IsInputDropFor(Vip, Legacy)).RawLine);
        Assert.Single(set.Rules, r => r.IsOutputMangleFor(Vip, Legacy));
        Assert.Equal(["INPUT", "OUTPUT", "FORWARD", "FOO"], set.ChainNames);
        Assert.All(set.Rules, r => Assert.False(r.RawLine.EndsWith(' ')));
    }

    [Fact]
    public void Parse_JfSeed_RecognisesInOutRulesOnlyWithJfDialect()
    {
        var vip = Ip("192.0.2.100");
        var rules = Fixture("jf-seed.txt").Rules;

        Assert.Equal("-A IN -d 192.0.2.100 -j DROP", Assert.Single(rules, r => r.IsInputDropFor(vip, Jf)).RawLine);
        Assert.Equal(Rip, Assert.Single(rules, r => r.IsOutputMangleFor(vip, Jf)).MangleIpSource);
        Assert.DoesNotContain(rules, r => r.IsInputDropFor(vip, Nft) || r.IsOutputMangleFor(vip, Nft));
        Assert.True(Assert.Single(rules, r => r.RawLine.Contains("-i eth1", StringComparison.Ordinal)).HasOtherMatches);
    }

    [Fact]
    public void Parse_OutputRuleWithDestinationInsteadOfSource_IsNotTheMangleRule()
    {
        var rules = Fixture("bad-order.txt").Rules;

        Assert.DoesNotContain(rules, r => r.IsOutputMangleFor(Vip, Nft));
        var bad = Assert.Single(rules, r => r.Chain == "OUTPUT");
        Assert.Equal(Vip, bad.Destination);
        Assert.Null(bad.Source);
        Assert.Single(rules, r => r.IsInputDropFor(Vip, Nft));
    }

    [Fact]
    public void Parse_ChainDeclarationWithCounters_IsAccepted()
    {
        var set = ArptablesRuleSet.Parse("*filter\n:IN ACCEPT [12:336]\n:OUT ACCEPT [0:0]\n[0:0] -A IN -d 192.0.2.100 -j DROP\nCOMMIT\n");

        Assert.Equal(ArptablesFlavor.Jf, set.DetectedFlavor);
        Assert.Equal(["IN", "OUT"], set.ChainNames);
        Assert.Equal("*filter\n:IN ACCEPT\n:OUT ACCEPT\n-A IN -d 192.0.2.100 -j DROP\nCOMMIT\n", set.Render(Jf, [], _ => false));
    }

    [Theory]
    [InlineData("*filter\nrubbish\n", "line 2")]
    [InlineData("*filter\n:INPUT\n", "chain declaration")]
    [InlineData("*filter\n-A\n", "without a chain")]
    [InlineData("*filter\n-A INPUT -d\n", "-d has no value")]
    [InlineData("*filter\n-A INPUT -j\n", "-j has no value")]
    [InlineData("*\n", "table name")]
    [InlineData("*filter\n-I INPUT -d 203.0.113.100 -j DROP\n", "line 2")]
    public void Parse_MalformedLine_ThrowsParseErrorWithLineNumber(string text, string expectedInMessage)
    {
        var ex = Assert.Throws<LvsException>(() => ArptablesRuleSet.Parse(text));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains(expectedInMessage, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nft-seed.txt")]
    [InlineData("nft-counters.txt")]
    [InlineData("jf-seed.txt")]
    public void Render_NoChanges_ReproducesEveryLineExactly(string fixture)
    {
        var text = FixtureText(fixture);
        var dialect = new ArptablesDialect(ArptablesRuleSet.Parse(text).DetectedFlavor!.Value);

        var rendered = ArptablesRuleSet.Parse(text).Render(dialect, [], _ => false);

        var expected = MeaningfulLines(text).Select(l => l.StartsWith('[') ? l[(l.IndexOf(']') + 2)..] : l).Where(l => l != "COMMIT").Append("COMMIT");
        Assert.Equal(string.Join('\n', expected) + "\n", rendered);
    }

    [Fact]
    public void Render_LegacyNoChanges_ReproducesLinesWithoutCommit()
    {
        var text = FixtureText("legacy-seed.txt");

        var rendered = ArptablesRuleSet.Parse(text).Render(Legacy, [], _ => false);

        Assert.Equal(string.Join('\n', MeaningfulLines(text)) + "\n", rendered);
        Assert.Contains(":FORWARD DROP\n:FOO -\n", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("COMMIT", rendered, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RemoveSeedRules_DropsExactlyThoseTwoLines()
    {
        var text = FixtureText("nft-seed.txt");
        var set = ArptablesRuleSet.Parse(text);

        var rendered = set.Render(Nft, [], r => r.IsInputDropFor(Vip, Nft) || r.IsOutputMangleFor(Vip, Nft));

        var expected = MeaningfulLines(text)
            .Where(l => l is not ("-A INPUT -j DROP -d 203.0.113.100" or "-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.10"))
            .Append("COMMIT");
        Assert.Equal(string.Join('\n', expected) + "\n", rendered);
        Assert.Equal(set.Rules.Count - 2, ArptablesRuleSet.Parse(rendered).Rules.Count);
    }

    [Fact]
    public void Render_AddedRules_FollowTheLastRuleOfTheirChain()
    {
        var set = Fixture("nft-seed.txt");
        var vip = Ip("203.0.113.10");
        var add = new[]
        {
            ArptablesSyntax.RuleLine("INPUT", ArptablesSyntax.InputDropSpec(vip)),
            ArptablesSyntax.RuleLine("OUTPUT", ArptablesSyntax.OutputMangleSpec(vip, Rip)),
        };

        var lines = MeaningfulLines(set.Render(Nft, add, _ => false));

        Assert.Equal("-A INPUT -d 203.0.113.10 -j DROP", lines[lines.IndexOf("-A INPUT -j FOO") + 1]);
        Assert.Equal("-A OUTPUT -s 203.0.113.10 -j mangle --mangle-ip-s 192.0.2.10", lines[lines.IndexOf("-A OUTPUT -j mangle -s 203.0.113.100 --mangle-mac-s 02:00:00:00:00:02") + 1]);
        Assert.Equal("-A FOO -j DROP -s 198.51.100.9", lines[^2]);
        var reparsed = ArptablesRuleSet.Parse(string.Join('\n', lines));
        Assert.Single(reparsed.Rules, r => r.IsInputDropFor(vip, Nft));
        Assert.Single(reparsed.Rules, r => r.IsOutputMangleFor(vip, Nft));
    }

    [Fact]
    public void Render_ReplaceRule_PutsNewRuleWhereTheChainEndsAfterRemoval()
    {
        var set = ArptablesRuleSet.Parse("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.99\n");

        var rendered = set.Render(Nft, [ArptablesSyntax.RuleLine("OUTPUT", ArptablesSyntax.OutputMangleSpec(Vip, Rip))], r => r.Chain == "OUTPUT");

        Assert.Equal(
            "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.10\n-A INPUT -j DROP -d 203.0.113.100\nCOMMIT\n",
            rendered);
    }

    [Fact]
    public void Render_EmptyInput_BuildsFreshFilterTableWithDialectChains()
    {
        var add = new[] { "-A INPUT -d 203.0.113.100 -j DROP", "-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.10" };

        var rendered = Fixture("empty.txt").Render(Nft, add, _ => false);

        Assert.Equal(
            "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -d 203.0.113.100 -j DROP\n-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.10\nCOMMIT\n",
            rendered);
    }

    [Fact]
    public void Render_EmptyInputJfDialect_DeclaresInAndOut()
    {
        Assert.Equal("*filter\n:IN ACCEPT\n:OUT ACCEPT\n-A IN -d 192.0.2.100 -j DROP\nCOMMIT\n", Fixture("empty.txt").Render(Jf, ["-A IN -d 192.0.2.100 -j DROP"], _ => false));
    }

    [Fact]
    public void Render_EmptyInputNoChanges_IsAValidEmptyTable()
    {
        Assert.Equal("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n", Fixture("empty.txt").Render(Legacy, [], _ => false));
    }

    [Fact]
    public void Render_UndeclaredChains_DeclaresOnlyBuiltInOnes()
    {
        var set = ArptablesRuleSet.Parse("*filter\n:INPUT DROP\n-A INPUT -j ACCEPT --opcode 1\n");

        var rendered = set.Render(Nft, ["-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.10", "-A BAR -j DROP"], _ => false);

        Assert.Equal(
            "*filter\n:INPUT DROP\n:OUTPUT ACCEPT\n-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.10\n-A BAR -j DROP\n-A INPUT -j ACCEPT --opcode 1\nCOMMIT\n",
            rendered);
    }

    [Fact]
    public void Render_AddingDeclarations_LeavesTheParsedSetUnchanged()
    {
        var set = ArptablesRuleSet.Parse("*filter\n:INPUT ACCEPT\n");

        var first = set.Render(Nft, ["-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.10"], _ => false);

        Assert.Equal(["INPUT"], set.ChainNames);
        Assert.Equal("*filter\n:INPUT ACCEPT\nCOMMIT\n", set.Render(Nft, [], _ => false));
        Assert.Contains(":OUTPUT ACCEPT\n", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_OtherTables_AreKeptWithTheirOwnChains()
    {
        var set = ArptablesRuleSet.Parse("*mangle\n:POSTROUTING ACCEPT\n-A POSTROUTING -j ACCEPT\nCOMMIT\n*filter\n:INPUT ACCEPT\nCOMMIT\n");

        var rendered = set.Render(Nft, ["-A INPUT -d 203.0.113.100 -j DROP"], _ => false);

        Assert.Equal("*mangle\n:POSTROUTING ACCEPT\n-A POSTROUTING -j ACCEPT\nCOMMIT\n*filter\n:INPUT ACCEPT\n-A INPUT -d 203.0.113.100 -j DROP\nCOMMIT\n", rendered);
        Assert.Equal("mangle", set.Rules[0].Table);
    }

    [Fact]
    public void Render_AddLineThatIsNotARule_Throws()
    {
        Assert.Throws<ArgumentException>(() => Fixture("empty.txt").Render(Nft, ["-D INPUT -d 203.0.113.100 -j DROP"], _ => false));
    }

    [Fact]
    public void OwnChains_FromTheListingOfArptablesNft_AreReadWithTheirJumpsAndRulesInOrder()
    {
        const string listing = "Chain INPUT (policy ACCEPT)\n-j ACCEPT -s 192.0.2.99\n-j LVSDIRECT-IN\n\nChain OUTPUT (policy ACCEPT)\n-j LVSDIRECT-OUT\n\n"
            + "Chain LVSDIRECT-IN (1 references)\n-j DROP -d 203.0.113.100\n-j DROP -d 203.0.113.101\n\n"
            + "Chain LVSDIRECT-OUT (1 references)\n-j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.10\n";

        var set = ArptablesRuleSet.Parse(ArptablesListing.ToSaveText(listing));

        Assert.Equal(["INPUT", "OUTPUT", "LVSDIRECT-IN", "LVSDIRECT-OUT"], set.ChainNames);
        Assert.Equal(["ACCEPT", "LVSDIRECT-IN"], set.RulesOf("INPUT").Select(r => r.Target));
        Assert.True(set.RulesOf("INPUT")[1].IsJumpTo(ArptablesDialect.OwnInputChain));
        Assert.False(set.RulesOf("INPUT")[0].IsJumpTo(ArptablesDialect.OwnInputChain));
        Assert.Equal(["203.0.113.100", "203.0.113.101"], set.RulesOf("LVSDIRECT-IN").Select(r => r.Destination!.ToString()));
        Assert.True(set.RulesOf("LVSDIRECT-OUT")[0].IsOutputMangleFor(Vip, ArptablesDialect.OwnOutputChain));
        Assert.False(set.RulesOf("LVSDIRECT-OUT")[0].IsOutputMangleFor(Vip, Nft));
        Assert.Contains(":LVSDIRECT-IN -\n-", set.Render(Nft, [], _ => false).Replace(":LVSDIRECT-OUT -\n", string.Empty));
    }

    [Fact]
    public void UserChainsDeclaredAsCommands_AreChains()
    {
        var set = ArptablesRuleSet.Parse("*filter\n:INPUT ACCEPT\n-N LVSDIRECT-IN\n-A INPUT -j LVSDIRECT-IN\n-A LVSDIRECT-IN -j DROP -d 203.0.113.100\n");

        Assert.Equal(["INPUT", "LVSDIRECT-IN"], set.ChainNames);
        Assert.True(set.Rules[1].IsInputDropFor(Vip, ArptablesDialect.OwnInputChain));
    }

    [Theory]
    [InlineData("-A INPUT -j ACCEPT -d 198.51.100.9", true)]
    [InlineData("-A INPUT -j ACCEPT -d 203.0.113.100", false)]
    [InlineData("-A INPUT -j ACCEPT -d 203.0.113.0/24", false)]
    [InlineData("-A INPUT -j ACCEPT -d 198.51.100.0/255.255.255.0", true)]
    [InlineData("-A INPUT -j ACCEPT ! -d 203.0.113.100", true)]
    [InlineData("-A INPUT -j ACCEPT -d ! 198.51.100.9", false)]
    [InlineData("-A INPUT -j ACCEPT -s 198.51.100.9", false)]
    [InlineData("-A INPUT -j ACCEPT", false)]
    public void Excludes_TellsWhenARulesOwnAddressLeavesTheVipOut(string line, bool excludes) =>
        Assert.Equal(excludes, ArptablesRuleSet.Excludes(ArptablesRuleSet.Parse(line).Rules[0], Vip, destination: true));
}

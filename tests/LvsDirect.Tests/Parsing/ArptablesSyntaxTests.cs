using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using Xunit;

namespace LvsDirect.Tests.Parsing;

public class ArptablesSyntaxTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");
    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.10");

    [Fact]
    public void InputDropSpec_IsDestinationDrop()
    {
        Assert.Equal(["-d", "203.0.113.100", "-j", "DROP"], ArptablesSyntax.InputDropSpec(Vip));
    }

    [Fact]
    public void OutputMangleSpec_MatchesSourceNotDestination()
    {
        Assert.Equal(["-s", "203.0.113.100", "-j", "mangle", "--mangle-ip-s", "192.0.2.10"], ArptablesSyntax.OutputMangleSpec(Vip, Rip));
    }

    [Fact]
    public void RuleLine_PrefixesAppendAndChain()
    {
        Assert.Equal("-A IN -d 203.0.113.100 -j DROP", ArptablesSyntax.RuleLine("IN", ArptablesSyntax.InputDropSpec(Vip)));
    }

    [Theory]
    [InlineData(ArptablesFlavor.Nft)]
    [InlineData(ArptablesFlavor.Legacy)]
    [InlineData(ArptablesFlavor.Jf)]
    public void RuleLine_SeedRules_ParseBackAsSeedRulesOfTheDialect(ArptablesFlavor flavor)
    {
        var dialect = new ArptablesDialect(flavor);
        var text = ArptablesSyntax.RuleLine(dialect.InputChain, ArptablesSyntax.InputDropSpec(Vip)) + "\n"
                   + ArptablesSyntax.RuleLine(dialect.OutputChain, ArptablesSyntax.OutputMangleSpec(Vip, Rip)) + "\n";

        var rules = ArptablesRuleSet.Parse(text).Rules;

        Assert.True(rules[0].IsInputDropFor(Vip, dialect));
        Assert.True(rules[1].IsOutputMangleFor(Vip, dialect));
        Assert.Equal(Rip, rules[1].MangleIpSource);
    }

    [Fact]
    public void InputDropSpec_IPv6Vip_ThrowsInvalidAddress()
    {
        var ex = Assert.Throws<LvsException>(() => ArptablesSyntax.InputDropSpec(IPAddress.Parse("2001:db8::10")));

        Assert.Equal(LvsErrorKind.InvalidAddress, ex.Kind);
    }

    [Fact]
    public void OutputMangleSpec_IPv6RealIp_ThrowsInvalidAddress()
    {
        var ex = Assert.Throws<LvsException>(() => ArptablesSyntax.OutputMangleSpec(Vip, IPAddress.Parse("2001:db8::11")));

        Assert.Equal(LvsErrorKind.InvalidAddress, ex.Kind);
    }

    [Theory]
    [InlineData("arptables v1.8.9 (nf_tables)\n", ArptablesFlavor.Nft)] // Debian 12 `arptables -V` (arptables-nft)
    [InlineData("arptables v0.0.5\n", ArptablesFlavor.Legacy)] // Debian 12 `arptables-legacy -V`
    [InlineData("arptables v1.8.7 (legacy)\n", ArptablesFlavor.Legacy)]
    [InlineData("arptables v0.0.8\n", ArptablesFlavor.Jf)]
    [InlineData("arptables_jf v0.0.8", ArptablesFlavor.Jf)]
    public void DetectFromVersion_RealVersionStrings_GiveTheirFlavor(string output, ArptablesFlavor expected)
    {
        Assert.Equal(expected, ArptablesSyntax.DetectFromVersion(output));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sh: 1: arptables: not found")]
    public void DetectFromVersion_Unrecognised_ThrowsParseError(string output)
    {
        Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => ArptablesSyntax.DetectFromVersion(output)).Kind);
    }
}

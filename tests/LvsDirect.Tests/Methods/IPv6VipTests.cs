using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Methods;

[Collection(CmdletCollection.Name)]
public class IPv6VipTests
{
    private const string V6OnLo = ",{\"family\":\"inet6\",\"local\":\"2001:db8::100\",\"prefixlen\":128,\"scope\":\"global\",\"valid_life_time\":4294967295,\"preferred_life_time\":4294967295}";

    private static IEnumerable<string> Changes(FakeRunner r) =>
        r.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments) + (c.StandardInput is null ? string.Empty : " <<" + c.StandardInput.TrimEnd()));

    [Theory]
    [InlineData("2001:db8::100", "2001:db8::100", 128)]
    [InlineData("2001:DB8::100/128", "2001:db8::100", 128)]
    [InlineData(" 2001:db8:0:0::1/64 ", "2001:db8::1", 64)]
    [InlineData("203.0.113.100", "203.0.113.100", 32)]
    public void ParseVipCidr_AcceptsIPv6AndKeepsIPv4(string text, string address, int prefix)
    {
        var (a, p) = InputValidation.ParseVipCidr(text);

        Assert.Equal((address, prefix), (a.ToString(), p));
    }

    [Theory]
    [InlineData("2001:db8::100/129", LvsErrorKind.InvalidPrefix)]
    [InlineData("2001:db8::100/0", LvsErrorKind.InvalidPrefix)]
    [InlineData("fe80::1", LvsErrorKind.InvalidVip)]
    [InlineData("2001:db8::1%eth0", LvsErrorKind.InvalidAddress)]
    [InlineData("::1", LvsErrorKind.InvalidVip)]
    [InlineData("ff02::1", LvsErrorKind.InvalidVip)]
    [InlineData("::ffff:203.0.113.1", LvsErrorKind.InvalidVip)]
    [InlineData("2001:db8::g", LvsErrorKind.InvalidAddress)]
    [InlineData("2001:db8::1;reboot", LvsErrorKind.InvalidAddress)]
    [InlineData("10.1", LvsErrorKind.InvalidAddress)]
    public void ParseVipCidr_RefusesWhatCannotBeAVip(string text, LvsErrorKind kind)
    {
        var ex = Assert.ThrowsAny<LvsException>(() => InputValidation.ParseVipCidr(text));

        Assert.Equal(kind, ex.Kind);
    }

    [Fact]
    public void ParseIPv4_StillRefusesIPv6_WhereOnlyIPv4MakesSense()
    {
        var ex = Assert.Throws<LvsException>(() => InputValidation.ParseIPv4("2001:db8::1", "real IP"));

        Assert.Equal(LvsErrorKind.InvalidAddress, ex.Kind);
        Assert.Contains("only as VIPs", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NewLvsVip_IPv6_GoesOnLoAs128WithNoDad_AndNeedsNoArpRules()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("New-LvsVip -Address 2001:db8::100");

        Assert.Empty(errors);
        Assert.Equal(["ip -batch - <<address add 2001:db8::100/128 dev lo nodad"], Changes(runner));
        Assert.DoesNotContain(runner.Commands, c => c.Program.StartsWith("arptables", StringComparison.Ordinal) || c.Program == "sysctl");
        var vip = Assert.IsType<LvsVip>(Assert.Single(output).BaseObject);
        Assert.Equal(("2001:db8::100/128", "lo", true, SuppressionState.Complete), (vip.Cidr, vip.InterfaceName, vip.IsVip, vip.ArpSuppression));
        Assert.Null(vip.RealIP);
    }

    [Fact]
    public void NewLvsVip_IPv6_WithBroadcast_IsRefused()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing("New-LvsVip -Address 2001:db8::100 -Broadcast 203.0.113.255");

        Assert.StartsWith("InvalidArgument,", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void GetLvsVip_ListsAnIPv6AddressOnLo_AndRemoveLvsVipTakesItOff()
    {
        var runner = FakeRunner.Host(extraLoAddrInfo: V6OnLo);
        using var host = new CmdletHost(runner, managed: ["2001:db8::100/128"]);

        var (output, errors, _) = host.Invoke("Get-LvsVip -Address 2001:db8::100");
        var (_, removeErrors, _) = host.Invoke("Remove-LvsVip -Address 2001:db8::100");

        Assert.Empty(errors);
        Assert.Equal("2001:db8::100/128", Assert.IsType<LvsVip>(Assert.Single(output).BaseObject).Cidr);
        Assert.Empty(removeErrors);
        Assert.Equal(["ip -batch - <<address del 2001:db8::100/128 dev lo"], Changes(runner));
    }

    [Fact]
    public void RcLocal_AddsAnIPv6VipWithNoDad()
    {
        var block = LvsDirect.Core.Persistence.RcLocal.RenderBlock(
            new ArptablesDialect(ArptablesFlavor.Nft),
            [new LvsDirect.Core.Persistence.RcVip(System.Net.IPAddress.Parse("2001:db8::100"), 128, "lo", null, null, null)]);

        Assert.Contains("ip addr replace 2001:db8::100/128 dev lo nodad || echo 'LvsDirect: 2001:db8::100/128 could not be added to lo' >&2", block);
        Assert.DoesNotContain(block, l => l.StartsWith("arptables", StringComparison.Ordinal));
    }
}

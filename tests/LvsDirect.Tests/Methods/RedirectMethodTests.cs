using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Methods;

[Collection(CmdletCollection.Name)]
public class RedirectMethodTests
{
    // `iptables -t nat -S PREROUTING` from iptables-nft 1.8.9 with a foreign rule, a foreign REDIRECT without our
    // comment, and one of ours.
    private const string Listing =
        "-P PREROUTING ACCEPT\n"
        + "-A PREROUTING -s 192.0.2.99/32 -j ACCEPT\n"
        + "-A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 80 -j REDIRECT\n"
        + "-A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 443 -m comment --comment lvsdirect -j REDIRECT\n"
        + "-A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 8443 -m comment --comment lvsdirect -j REDIRECT --to-ports 9443\n";

    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");

    private static FakeRunner Host(string listing = Listing) => FakeRunner.Host().On("iptables -t nat -S PREROUTING", listing);

    private static IEnumerable<string> Changes(FakeRunner r) => r.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments));

    [Fact]
    public void Parse_FindsOnlyRulesOfExactlyOurShape()
    {
        var rule = Assert.Single(RedirectSyntax.Parse(Listing));

        Assert.Equal((Vip, RedirectProtocol.Tcp, 443), rule.Key);
    }

    [Fact]
    public void RuleLine_IsWhatIptablesPrintsBack()
    {
        var line = RedirectSyntax.RuleLine(Vip, RedirectProtocol.Udp, 53);

        Assert.Equal("-A PREROUTING -d 203.0.113.100/32 -p udp -m udp --dport 53 -m comment --comment lvsdirect -j REDIRECT", line);
        Assert.Equal((Vip, RedirectProtocol.Udp, 53), RedirectSyntax.TryParse(line)!.Key);
    }

    [Fact]
    public void Planner_AddsOnlyWhatIsMissing_RuleByRule()
    {
        var plan = RedirectPlanner.Create(RedirectSyntax.Parse(Listing), [(Vip, RedirectProtocol.Tcp, 443), (Vip, RedirectProtocol.Tcp, 80)], []);

        var step = Assert.Single(plan.Steps);
        Assert.Equal(
            "iptables -t nat -A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 80 -m comment --comment lvsdirect -j REDIRECT",
            step.Command.ToDisplayString());
        Assert.Contains(plan.Changes, c => c.Kind == ChangeKind.Unchanged && c.Detail.Contains("443", StringComparison.Ordinal));
    }

    [Fact]
    public void Planner_AboveTheLimit_UsesOneRestoreWithNoflush_WithOnlyOurLines()
    {
        var ports = Enumerable.Range(1000, RedirectPlanner.RuleByRuleLimit + 1).Select(p => (Vip, RedirectProtocol.Udp, p)).ToList();

        var plan = RedirectPlanner.Create(RedirectSyntax.Parse(Listing), ports, [(Vip, RedirectProtocol.Tcp, 443)]);

        var step = Assert.Single(plan.Steps);
        Assert.Equal("iptables-restore --noflush", step.Command.Program + " " + string.Join(' ', step.Command.Arguments));
        var lines = step.Command.StandardInput!.TrimEnd().Split('\n');
        Assert.Equal("*nat", lines[0]);
        Assert.Equal("COMMIT", lines[^1]);
        Assert.Equal("-D PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 443 -m comment --comment lvsdirect -j REDIRECT", lines[1]);
        Assert.Equal(RedirectPlanner.RuleByRuleLimit + 1, lines.Count(l => l.StartsWith("-A PREROUTING", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("192.0.2.99", StringComparison.Ordinal) || l.StartsWith("-F", StringComparison.Ordinal));
    }

    [Fact]
    public void NewLvsRedirect_IsIdempotent_AndReturnsTypedObjects()
    {
        var runner = Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("New-LvsRedirect -VirtualIP 203.0.113.100 -Port 443 -Protocol tcp");

        Assert.Empty(errors);
        Assert.Empty(runner.Changes);
        var r = Assert.IsType<LvsRedirect>(Assert.Single(output).BaseObject);
        Assert.Equal((Vip, 443, RedirectProtocol.Tcp), (r.VirtualIP, r.Port, r.Protocol));
    }

    [Fact]
    public void RemoveLvsRedirect_RemovesOnlyOurRule_NeverTheForeignLookalike()
    {
        var runner = Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("Remove-LvsRedirect -VirtualIP 203.0.113.100 -PassThru");

        Assert.Empty(errors);
        Assert.Equal(["iptables -t nat -D PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 443 -m comment --comment lvsdirect -j REDIRECT"], Changes(runner));
        Assert.Equal(443, Assert.IsType<LvsRedirect>(Assert.Single(output).BaseObject).Port);
    }

    [Fact]
    public void GetLvsRedirect_Filters()
    {
        var runner = Host(Listing + "-A PREROUTING -d 203.0.113.101/32 -p udp -m udp --dport 53 -m comment --comment lvsdirect -j REDIRECT\n");
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("Get-LvsRedirect -Protocol udp");

        Assert.Empty(errors);
        Assert.Equal("203.0.113.101", Assert.IsType<LvsRedirect>(Assert.Single(output).BaseObject).VirtualIP.ToString());
    }

    [Theory]
    [InlineData("New-LvsRedirect -VirtualIP 203.0.113 -Port 80", "InvalidAddress")]
    [InlineData("New-LvsRedirect -VirtualIP 2001:db8::1 -Port 80", "InvalidAddress")]
    [InlineData("New-LvsRedirect -VirtualIP '203.0.113.1;reboot' -Port 80", "InvalidAddress")]
    [InlineData("New-LvsRedirect -VirtualIP 203.0.113.1 -Port 0", "ParameterArgumentValidationError")]
    [InlineData("New-LvsRedirect -VirtualIP 203.0.113.1 -Port 80 -Protocol sctp", "CannotConvertArgumentNoMessage")]
    public void NewLvsRedirect_BadInput_FailsAndChangesNothing(string script, string errorId)
    {
        var runner = Host();
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing(script);

        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void NewLvsRedirect_NotRoot_FailsBeforeRunningAnything()
    {
        var runner = Host();
        using var host = new CmdletHost(runner, isRoot: false);

        var error = host.InvokeFailing("New-LvsRedirect -VirtualIP 203.0.113.1 -Port 80");

        Assert.StartsWith("NotRoot,", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public void RcLocal_RecreatesRedirectsWithoutDuplicating()
    {
        var block = RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Nft), [], redirects: RedirectSyntax.Parse(Listing));

        var line = Assert.Single(block, l => l.StartsWith("iptables", StringComparison.Ordinal));
        Assert.Equal(
            "iptables -t nat -C PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 443 -m comment --comment lvsdirect -j REDIRECT 2>/dev/null || iptables -t nat -A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 443 -m comment --comment lvsdirect -j REDIRECT || echo 'LvsDirect: the REDIRECT rule for 203.0.113.100 could not be added' >&2",
            line);
        Assert.Equal(RcLocal.BeginMarker, block[0]);
    }
}

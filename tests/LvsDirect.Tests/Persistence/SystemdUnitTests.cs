using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Persistence;

[Collection(CmdletCollection.Name)]
public sealed class SystemdUnitTests : IDisposable
{
    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");
    private static readonly IPAddress Rip = IPAddress.Parse("192.0.2.11");

    private readonly string _dir = Directory.CreateTempSubdirectory("lvs-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IReadOnlyList<string> Exec(IReadOnlyList<string> lines) =>
        lines.Where(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l["ExecStart=".Length..], @"^(-?)/\S*/", "$1"))
            .ToList();

    [Fact]
    public void Render_FollowsTheBootCommands_ChainsAndRedirectsFirst_EachVipsAddressRightAfterItsRules_EachAsItsOwnExecStart()
    {
        var lines = SystemdUnit.Render(
            new ArptablesDialect(ArptablesFlavor.Nft),
            [new RcVip(Vip, 32, "eth0", "eth0:1", null, Rip), new RcVip(IPAddress.Parse("2001:db8::100"), 128, "lo", null, null, null)],
            redirects: [new RedirectRule(IPAddress.Parse("203.0.113.101"), RedirectProtocol.Tcp, 80, string.Empty)]);

        Assert.Equal(
            [
                "-arptables -N LVSDIRECT-IN",
                "-arptables -D INPUT -j LVSDIRECT-IN",
                "arptables -I INPUT 1 -j LVSDIRECT-IN",
                "-arptables -N LVSDIRECT-OUT",
                "-arptables -D OUTPUT -j LVSDIRECT-OUT",
                "arptables -I OUTPUT 1 -j LVSDIRECT-OUT",
                "-iptables -t nat -D PREROUTING -d 203.0.113.101/32 -p tcp -m tcp --dport 80 -m comment --comment lvsdirect -j REDIRECT",
                "iptables -t nat -A PREROUTING -d 203.0.113.101/32 -p tcp -m tcp --dport 80 -m comment --comment lvsdirect -j REDIRECT",
                "-arptables -D LVSDIRECT-IN -d 203.0.113.100 -j DROP",
                "arptables -A LVSDIRECT-IN -d 203.0.113.100 -j DROP",
                "-arptables -D LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "ip addr replace 203.0.113.100/32 dev eth0 label eth0:1",
                "ip addr replace 2001:db8::100/128 dev lo nodad",
            ],
            Exec(lines));
        Assert.Equal(SystemdUnit.Header, lines[0]);
        Assert.Contains("Type=oneshot", lines);
        Assert.Contains("Before=network-online.target", lines);
        Assert.Contains("WantedBy=multi-user.target", lines);
        Assert.All(lines.Where(l => l.StartsWith("ExecStart=", StringComparison.Ordinal)), l => Assert.Matches(@"^ExecStart=-?/", l));
    }

    [Fact]
    public void Render_SysctlMethod_SetsTheSysctlsFirst()
    {
        var lines = SystemdUnit.Render(
            new ArptablesDialect(ArptablesFlavor.Nft),
            [new RcVip(Vip, 32, "lo", null, null, null)],
            ArpSysctls.Persisted(null, "eth0"));

        Assert.Equal(
            ["sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2", "ip addr replace 203.0.113.100/32 dev lo"],
            Exec(lines));
    }

    [Fact]
    public void ExportRcLocal_SystemdUnit_WithPath_WritesTheUnit_AndEnablesNothing()
    {
        var save = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";
        var onEth0 = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}";
        var runner = FakeRunner.Host(Listing.FromSave(save), onEth0);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100"]);
        var path = Path.Combine(_dir, "lvsdirect.service");

        var (output, errors, _) = host.Invoke($"Export-RcLocal -Target SystemdUnit -Path '{path}'");

        Assert.Empty(errors);
        var result = Assert.IsType<RcLocalExportResult>(Assert.Single(output).BaseObject);
        Assert.Equal((BootPersistence.SystemdUnit, true, false, 1), (result.Target, result.Created, result.ServiceEnabled, result.VipCount));
        Assert.Equal(SystemdUnit.Content(result.Block), File.ReadAllText(path));
        Assert.Empty(runner.Changes);
        Assert.DoesNotContain(runner.Commands, c => c.Program == "systemctl");
    }

    [Fact]
    public void ExportRcLocal_SystemdUnit_NeverOverwritesAFileItDidNotWrite()
    {
        var path = Path.Combine(_dir, "lvsdirect.service");
        File.WriteAllText(path, "[Unit]\nDescription=someone else's\n");
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing($"Export-RcLocal -Target SystemdUnit -Path '{path}'");

        Assert.StartsWith("FileError,", error.FullyQualifiedErrorId);
        Assert.Equal("[Unit]\nDescription=someone else's\n", File.ReadAllText(path));
    }
}

using System.Text.RegularExpressions;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Methods;

/// <summary>
/// Set-ArpSuppression -Method switching a VIP to and from the sysctl method: the exact command order, and a
/// replay of the commands that checks after every one of them that wherever the VIP is, something keeps it
/// out of ARP (so a run that stops after any step leaves no window).
/// </summary>
[Collection(CmdletCollection.Name)]
public sealed class MethodSwitchTests : IDisposable
{
    private const string Vip = "203.0.113.100";
    private const string OnLo = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"lo\"}";
    private const string OnEth0 = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}";
    internal const string Rules = "Chain INPUT (policy ACCEPT)\n-j LVSDIRECT-IN \n\nChain OUTPUT (policy ACCEPT)\n-j LVSDIRECT-OUT \n\n"
        + "Chain LVSDIRECT-IN (1 references)\n-j DROP -d 203.0.113.100 \n\nChain LVSDIRECT-OUT (1 references)\n-j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11 \n";
    internal const string NftTable = "{\"nftables\":[{\"metainfo\":{\"version\":\"1.0.6\",\"json_schema_version\":1}},"
        + "{\"table\":{\"family\":\"arp\",\"name\":\"lvsdirect\",\"handle\":1}},"
        + "{\"chain\":{\"family\":\"arp\",\"table\":\"lvsdirect\",\"name\":\"input\",\"handle\":1,\"type\":\"filter\",\"hook\":\"input\",\"prio\":0,\"policy\":\"accept\"}},"
        + "{\"chain\":{\"family\":\"arp\",\"table\":\"lvsdirect\",\"name\":\"output\",\"handle\":2,\"type\":\"filter\",\"hook\":\"output\",\"prio\":0,\"policy\":\"accept\"}},"
        + "{\"rule\":{\"family\":\"arp\",\"table\":\"lvsdirect\",\"chain\":\"input\",\"handle\":3,\"expr\":[{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":\"arp\",\"field\":\"daddr ip\"}},\"right\":\"203.0.113.100\"}},{\"drop\":null}]}},"
        + "{\"rule\":{\"family\":\"arp\",\"table\":\"lvsdirect\",\"chain\":\"output\",\"handle\":4,\"expr\":[{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":\"arp\",\"field\":\"saddr ip\"}},\"right\":\"203.0.113.100\"}},{\"mangle\":{\"key\":{\"payload\":{\"protocol\":\"arp\",\"field\":\"saddr ip\"}},\"value\":\"192.0.2.11\"}}]}}]}";

    private static readonly string SysctlRead = string.Join(' ', ["sysctl", .. ArpSysctls.ReadCommand.Arguments]);

    private readonly string _dir = Directory.CreateTempSubdirectory("lvs-switch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string StatePath => Path.Combine(_dir, "arp-sysctl.json");

    private static string Sysctl(int v) =>
        $"net.ipv4.conf.all.arp_announce = {2 * v}\nnet.ipv4.conf.all.arp_ignore = {v}\n"
        + $"net.ipv4.conf.eth0.arp_announce = {2 * v}\nnet.ipv4.conf.eth0.arp_ignore = {v}\nnet.ipv4.conf.lo.arp_announce = 0\nnet.ipv4.conf.lo.arp_ignore = 0\n";

    private static IEnumerable<string> Changes(FakeRunner r) =>
        r.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments) + (c.StandardInput is null || c.Program == "nft" ? string.Empty : " <<" + c.StandardInput.TrimEnd()));

    [Fact]
    public void ArptablesToSysctl_RaisesTheSysctls_AddsToLo_ThenTakesItOffEth0_ThenDeletesTheRules()
    {
        var runner = FakeRunner.Host(Rules, extraAddrInfo: OnEth0).On(SysctlRead, Sysctl(0));
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke($"Set-ArpSuppression -VirtualIP {Vip} -Method Sysctl -SysctlStatePath '{StatePath}' -PassThru");

        Assert.Empty(errors);
        Assert.Equal(
            [
                "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2",
                "ip -batch - <<address add 203.0.113.100/32 dev lo",
                "ip -batch - <<address del 203.0.113.100/32 dev eth0",
                "arptables -D LVSDIRECT-IN -d 203.0.113.100 -j DROP",
                "arptables -D LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "arptables -D INPUT -j LVSDIRECT-IN",
                "arptables -X LVSDIRECT-IN",
                "arptables -D OUTPUT -j LVSDIRECT-OUT",
                "arptables -X LVSDIRECT-OUT",
            ],
            Changes(runner));
        AssertEveryPrefixSafe(runner, new Replay { OnEth0 = true, ArptablesDrop = true });
        Assert.Equal(ArpMethod.Sysctl, Assert.IsType<ArpSuppressionRule>(Assert.Single(output).BaseObject).Method);
        Assert.Equal(4, SysctlStateFile.Load(StatePath).Count);
    }

    [Fact]
    public void NftablesToSysctl_RemovesTheVipFromTheTableOnlyAfterItLeftEth0()
    {
        var runner = FakeRunner.Host(extraAddrInfo: OnEth0).On(SysctlRead, Sysctl(0)).On("nft -j list table arp lvsdirect", NftTable);
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-ArpSuppression -VirtualIP {Vip} -Method Sysctl -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(["sysctl", "ip", "ip", "nft"], runner.Changes.Select(c => c.Program));
        Assert.DoesNotContain(Vip, runner.Changes.Last().StandardInput ?? string.Empty, StringComparison.Ordinal);
        AssertEveryPrefixSafe(runner, new Replay { OnEth0 = true, NftDrop = true });
    }

    [Fact]
    public void SysctlToArptables_AddsTheRules_AddsToEth0_TakesItOffLo_ThenRestoresTheSysctls()
    {
        SysctlStateFile.Save(StatePath, SysctlKey.For("eth0").Select(k => new SysctlRecord(k, 0, k.Target)).ToList());
        var runner = FakeRunner.Host(extraLoAddrInfo: OnLo).On(SysctlRead, Sysctl(1));
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-ArpSuppression -VirtualIP {Vip} -Method Arptables -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(
            [
                "arptables -N LVSDIRECT-IN",
                "arptables -I INPUT 1 -j LVSDIRECT-IN",
                "arptables -N LVSDIRECT-OUT",
                "arptables -I OUTPUT 1 -j LVSDIRECT-OUT",
                "arptables -A LVSDIRECT-IN -d 203.0.113.100 -j DROP",
                "arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "ip -batch - <<address add 203.0.113.100/32 dev eth0",
                "ip -batch - <<address del 203.0.113.100/32 dev lo",
                "sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 net.ipv4.conf.eth0.arp_ignore=0 net.ipv4.conf.eth0.arp_announce=0",
            ],
            Changes(runner));
        AssertEveryPrefixSafe(runner, new Replay { OnLo = true, SysctlsUp = true });
        Assert.Empty(SysctlStateFile.Load(StatePath));
    }

    [Fact]
    public void SysctlToNftables_KeepsTheSysctls_WhileAnotherVipStaysOnLo()
    {
        SysctlStateFile.Save(StatePath, SysctlKey.For("eth0").Select(k => new SysctlRecord(k, 0, k.Target)).ToList());
        var second = OnLo.Replace("203.0.113.100", "203.0.113.101", StringComparison.Ordinal);
        var runner = FakeRunner.Host(extraLoAddrInfo: OnLo + second).On(SysctlRead, Sysctl(1));
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-ArpSuppression -VirtualIP {Vip} -Method Nftables -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(["nft", "ip", "ip"], runner.Changes.Select(c => c.Program));
        Assert.Contains("address del 203.0.113.100/32 dev lo", runner.Changes.Last().StandardInput, StringComparison.Ordinal);
        AssertEveryPrefixSafe(runner, new Replay { OnLo = true, SysctlsUp = true });
        Assert.Equal(4, SysctlStateFile.Load(StatePath).Count);
    }

    [Fact]
    public void SysctlToArptables_WithoutAnExplicitMethod_LeavesTheVipOnLo()
    {
        var runner = FakeRunner.Host(extraLoAddrInfo: OnLo).On(SysctlRead, Sysctl(1));
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-ArpSuppression -VirtualIP {Vip} -RealIP 192.0.2.11 -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(Enumerable.Repeat("arptables", 6), runner.Changes.Select(c => c.Program));
    }

    [Fact]
    public void SwitchToSysctl_WhatIf_RunsNothing_AndRecordsNothing()
    {
        var runner = FakeRunner.Host(Rules, extraAddrInfo: OnEth0).On(SysctlRead, Sysctl(0));
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-ArpSuppression -VirtualIP {Vip} -Method Sysctl -SysctlStatePath '{StatePath}' -WhatIf");

        Assert.Empty(errors);
        Assert.Empty(runner.Changes);
        Assert.False(File.Exists(StatePath));
    }

    [Fact]
    public void TheReplay_FindsAnUnsafeOrder()
    {
        // The checker itself: the address added on eth0 before any rule is a window it must report.
        var runner = new FakeRunner();
        runner.Run(new ToolCommand("ip", ["-batch", "-"], "address add 203.0.113.100/32 dev eth0\n"));
        runner.Run(new ToolCommand("arptables", ["-A", "INPUT", "-d", Vip, "-j", "DROP"]));

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertEveryPrefixSafe(runner, new Replay()));
    }

    [Fact]
    public void SetLvsRealServer_Sysctl_MovesAnArptablesVipToLo_AndRemovesAnUnlistedOne_SafelyAtEveryStep()
    {
        var second = OnEth0.Replace("203.0.113.100", "203.0.113.101", StringComparison.Ordinal);
        var rules = Rules.Replace("\n\nChain LVSDIRECT-OUT (1 references)\n", "\n-j DROP -d 203.0.113.101 \n\nChain LVSDIRECT-OUT (1 references)\n", StringComparison.Ordinal)
            + "-j mangle -s 203.0.113.101 --mangle-ip-s 192.0.2.11 \n";
        var runner = FakeRunner.Host(rules, extraAddrInfo: OnEth0 + second).On(SysctlRead, Sysctl(0));
        using var host = new CmdletHost(runner, managed: [Vip, "203.0.113.101"]);

        var (output, errors, _) = host.Invoke($"Set-LvsRealServer -VirtualIP {Vip} -Method Sysctl -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(
            [
                "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2",
                "ip -batch - <<address add 203.0.113.100/32 dev lo",
                "ip -batch - <<address del 203.0.113.100/32 dev eth0\naddress del 203.0.113.101/32 dev eth0",
                "arptables -D LVSDIRECT-IN -d 203.0.113.101,203.0.113.100 -j DROP",
                "arptables -D LVSDIRECT-OUT -s 203.0.113.101,203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11",
                "arptables -D INPUT -j LVSDIRECT-IN",
                "arptables -X LVSDIRECT-IN",
                "arptables -D OUTPUT -j LVSDIRECT-OUT",
                "arptables -X LVSDIRECT-OUT",
            ],
            Changes(runner));
        AssertEveryPrefixSafe(runner, new Replay { OnEth0 = true, ArptablesDrop = true });
        var result = Assert.IsType<RealServerResult>(Assert.Single(output).BaseObject);
        Assert.Equal((ArpMethod.Sysctl, RealServerStatus.Changed), (result.Method, result.Status));
        Assert.Equal([VipAction.Added, VipAction.Removed], result.Changes.Select(c => c.Action));
        Assert.Equal(4, SysctlStateFile.Load(StatePath).Count);
    }

    [Fact]
    public void SetLvsRealServer_Arptables_MovesASysctlVipToEth0_ThenRestoresTheSysctls()
    {
        SysctlStateFile.Save(StatePath, SysctlKey.For("eth0").Select(k => new SysctlRecord(k, 0, k.Target)).ToList());
        var runner = FakeRunner.Host(extraLoAddrInfo: OnLo).On(SysctlRead, Sysctl(1));
        using var host = new CmdletHost(runner, managed: [Vip]);

        var (_, errors, _) = host.Invoke($"Set-LvsRealServer -VirtualIP {Vip} -Method Arptables -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal([.. Enumerable.Repeat("arptables", 6), "ip", "ip", "sysctl"], runner.Changes.Select(c => c.Program));
        Assert.Contains("address add 203.0.113.100/32 dev eth0", runner.Changes.ElementAt(6).StandardInput, StringComparison.Ordinal);
        AssertEveryPrefixSafe(runner, new Replay { OnLo = true, SysctlsUp = true });
        Assert.Empty(SysctlStateFile.Load(StatePath));
    }

    [Fact]
    public void SetLvsRealServer_Nftables_ConvertsAnArptablesVip_AndASecondRunChangesNothing()
    {
        var runner = FakeRunner.Host(Rules, extraAddrInfo: OnEth0).On(SysctlRead, Sysctl(0));
        using var host = new CmdletHost(runner, managed: [Vip]);

        var (_, errors, _) = host.Invoke($"Set-LvsRealServer -VirtualIP {Vip} -Method Nftables -SysctlStatePath '{StatePath}'");

        Assert.Empty(errors);
        Assert.Equal(["nft", .. Enumerable.Repeat("arptables", 6)], runner.Changes.Select(c => c.Program));
        Assert.Contains($"arp daddr ip {Vip} drop", runner.Changes.First().StandardInput, StringComparison.Ordinal);
        Assert.Equal(["-D", "-D", "-D", "-X", "-D", "-X"], runner.Changes.Skip(1).Select(c => c.Arguments[0]));
        AssertEveryPrefixSafe(runner, new Replay { OnEth0 = true, ArptablesDrop = true });

        var after = FakeRunner.Host(extraAddrInfo: OnEth0).On(SysctlRead, Sysctl(0)).On("nft -j list table arp lvsdirect", NftTable);
        using var again = new CmdletHost(after, managed: [Vip]);
        var (output, errors2, _) = again.Invoke($"Set-LvsRealServer -VirtualIP {Vip} -Method Nftables -SysctlStatePath '{StatePath}'");
        Assert.Empty(errors2);
        Assert.Empty(after.Changes);
        Assert.Equal(RealServerStatus.Unchanged, Assert.IsType<RealServerResult>(Assert.Single(output).BaseObject).Status);
    }

    [Fact]
    public void SetLvsRealServer_Sysctl_WiderThan32_IsInvalidPrefix_AndChangesNothing()
    {
        var runner = FakeRunner.Host().On(SysctlRead, Sysctl(0));
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-LvsRealServer -VirtualIP 203.0.113.100/24 -Method Sysctl -SysctlStatePath '{StatePath}'");

        Assert.Equal("InvalidPrefix", Assert.Single(errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(runner.Changes);
    }

    [Theory]
    [InlineData("Nftables")]
    [InlineData("Sysctl")]
    public void SetLvsRealServer_AgentlessTransport_TakesEveryMethod_AndGoesToTheHost(string method)
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke($"Set-LvsRealServer -VirtualIP 203.0.113.100 -HostName rs1.invalid -Transport Ssh -Method {method}");

        // The method is no reason to refuse any more: the run gets as far as ssh, which cannot resolve the name.
        var error = Assert.Single(errors);
        Assert.Equal("HostUnreachable", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(runner.Commands);
    }

    private static void AssertEveryPrefixSafe(FakeRunner runner, Replay state)
    {
        Assert.True(state.Safe, "the starting state");
        var n = 0;
        foreach (var c in runner.Changes)
        {
            state.Apply(c);
            n++;
            Assert.True(state.Safe, $"after step {n} ({c.ToDisplayString()}) the VIP is on {(state.OnEth0 ? "eth0" : "lo")} with nothing keeping it out of ARP");
        }
    }

    /// <summary>Where the VIP is and what keeps it out of ARP, as the commands leave it.</summary>
    private sealed class Replay
    {
        public bool OnEth0 { get; set; }

        public bool OnLo { get; set; }

        public bool ArptablesDrop { get; set; }

        public bool NftDrop { get; set; }

        public bool SysctlsUp { get; set; }

        /// <summary>A drop rule covers the VIP anywhere; the sysctls cover it only on lo.</summary>
        public bool Safe => (!OnEth0 || ArptablesDrop || NftDrop) && (!OnLo || ArptablesDrop || NftDrop || SysctlsUp);

        public void Apply(ToolCommand c)
        {
            var line = string.Join(' ', c.Arguments);
            switch (c.Program)
            {
                case "ip":
                    foreach (Match m in Regex.Matches(c.StandardInput ?? string.Empty, $@"address (add|del) {Regex.Escape(Vip)}/\d+ dev (\S+)"))
                    {
                        var present = m.Groups[1].Value == "add";
                        if (m.Groups[2].Value == "lo")
                        {
                            OnLo = present;
                        }
                        else
                        {
                            OnEth0 = present;
                        }
                    }

                    break;
                case "arptables" when Regex.IsMatch(line, $@"^-[AD] (LVSDIRECT-IN|INPUT) -d (\S+,)?{Regex.Escape(Vip)}(,\S+)? -j DROP$"):
                    ArptablesDrop = c.Arguments[0] == "-A";
                    break;
                case "nft":
                    NftDrop = (c.StandardInput ?? string.Empty).Contains($"arp daddr ip {Vip} drop", StringComparison.Ordinal);
                    break;
                case "sysctl":
                    SysctlsUp = line.Contains("all.arp_ignore=1", StringComparison.Ordinal) || (SysctlsUp && !line.Contains("all.arp_ignore=0", StringComparison.Ordinal));
                    break;
            }
        }
    }
}

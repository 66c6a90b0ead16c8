using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Pool;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Agentless;

/// <summary>
/// Set-LvsRealServer's plan over -Transport Ssh against the local one: one host state, given once as the tools
/// print it to a local run (through <see cref="HostInspector"/> and the files it reads) and once as the agentless
/// script prints it (a <see cref="RemoteSnapshot"/>), must give the same commands in the same order, with the
/// sysctl and ownership records written where the local executor writes them.
/// </summary>
public sealed class AgentlessRealServerTests : IDisposable
{
    private const string StateDir = "/var/lib/lvsdirect";
    private const string Vip = "203.0.113.100";
    private const string Rules = Methods.MethodSwitchTests.Rules;
    private const string NoRules = "Chain INPUT (policy ACCEPT)\n\nChain OUTPUT (policy ACCEPT)\n";
    private const string NftTable = Methods.MethodSwitchTests.NftTable;
    private const string NoNftTable = "Error: No such file or directory\nlist table arp lvsdirect\n";

    private static readonly NamespaceStamp Stamp = new(4242, "8d3c-boot", 4026531840);

    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-agentless-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>One host's state: addresses beyond eth0's own, arptables listing, nftables table (null: none), ARP sysctls, records.</summary>
    public sealed record Case(
        string Name,
        string ExtraEth0 = "",
        string ExtraLo = "",
        string ArpList = NoRules,
        string? Nft = null,
        int Sysctl = 0,
        string[]? Managed = null,
        bool SysctlRecord = false)
    {
        public override string ToString() => Name;
    }

    private const string OnEth0 = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}";
    private const string OnLo = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"lo\"}";
    private const string V6OnLo = ",{\"family\":\"inet6\",\"local\":\"2001:db8::10\",\"prefixlen\":128,\"scope\":\"global\"}";

    public static TheoryData<Case, string[], ArpMethod, bool> Cases() => new()
    {
        { new Case("fresh host"), [Vip], ArpMethod.Sysctl, true },
        { new Case("fresh host"), [Vip, "203.0.113.101"], ArpMethod.Arptables, false },
        { new Case("fresh host"), [Vip], ArpMethod.Nftables, true },
        { new Case("arptables VIP", OnEth0, ArpList: Rules, Managed: [Vip]), [Vip], ArpMethod.Sysctl, true },
        { new Case("arptables VIP", OnEth0, ArpList: Rules, Managed: [Vip]), [Vip], ArpMethod.Nftables, true },
        { new Case("nftables VIP", OnEth0, Nft: NftTable, Managed: [Vip]), [Vip], ArpMethod.Arptables, true },
        { new Case("sysctl VIP", ExtraLo: OnLo, Sysctl: 1, Managed: [Vip], SysctlRecord: true), [Vip], ArpMethod.Arptables, true },
        { new Case("sysctl VIP", ExtraLo: OnLo, Sysctl: 1, Managed: [Vip], SysctlRecord: true), [], ArpMethod.Arptables, false },
        { new Case("sysctl VIP", ExtraLo: OnLo, Sysctl: 1, Managed: [Vip], SysctlRecord: true), [Vip], ArpMethod.Sysctl, false },
        { new Case("IPv6 VIP added"), ["2001:db8::10"], ArpMethod.Arptables, false },
        { new Case("IPv6 VIP kept, IPv4 removed", OnEth0, V6OnLo, Rules, Managed: [Vip, "2001:db8::10"]), ["2001:db8::10"], ArpMethod.Sysctl, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheSameSnapshot_GivesTheSamePlan_LocallyAndOverSsh(Case host, string[] vips, ArpMethod method, bool convert)
    {
        var wanted = vips.Select(v => InputValidation.ParseVipCidr(v)).ToList();
        var recorded = (host.Managed ?? []).Select(a => IPAddress.Parse(a)).Select(a => new ManagedVip(a, a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128, a.ToString() == Vip && host.ExtraLo.Length == 0 ? "eth0" : "lo")).ToList();
        var records = host.SysctlRecord
            ? SysctlKey.For("eth0").Select(k => new SysctlRecord(k, 0, k.Target)).ToList()
            : [];

        // Locally: the tools' output through the host inspector, the records from files.
        var runner = FakeRunner.Host(host.ArpList, host.ExtraEth0, extraLoAddrInfo: host.ExtraLo)
            .On("sysctl -r \\.arp_(ignore|announce)$ net.ipv4.conf", LocalSysctl(host.Sysctl));
        if (host.Nft is not null)
        {
            runner.On("nft -j list table arp lvsdirect", host.Nft);
        }

        var recordPath = Path.Combine(_dir, "vips.json");
        VipRecord.Save(recordPath, recorded);
        var rcLocal = Path.Combine(_dir, "rc.local");
        var localState = new HostInspector(runner).Read(true, default, includeSysctls: true, includeNft: true);
        var local = RealServerPlanner.Create(localState, Ownership.Read(recordPath, HostScopeKind.Host, rcLocal), wanted, null, method, records, convert);

        // Over ssh: the same state as the script prints it.
        var addresses = runner.Run(HostInspector.ReadAddressesCommand).StandardOutput;
        var snapshot = new RemoteSnapshot
        {
            Uid = 0,
            Programs = AgentlessScript.ReportedPrograms.ToHashSet(),
            Reads = new Dictionary<string, RemoteOutput>
            {
                ["ip"] = new(0, addresses, string.Empty),
                ["arplist"] = new(0, host.ArpList, string.Empty),
                ["arpversion"] = new(0, "arptables v1.8.9 (nf_tables)\n", string.Empty),
                ["nft"] = host.Nft is null ? new(1, string.Empty, NoNftTable) : new(0, host.Nft, string.Empty),
                ["sysctl"] = new(0, ScriptSysctl(host.Sysctl), string.Empty),
            },
            Files = new Dictionary<string, string?>
            {
                [rcLocal] = null,
                [SystemdUnit.DefaultPath] = null,
                [$"{StateDir}/{VipRecord.FileName}"] = VipRecord.Render(recorded),
                [$"{StateDir}/{SysctlStateFile.FileName}"] = records.Count == 0 ? null : SysctlStateFile.Render(records, Stamp),
            },
            UnreadableFiles = new HashSet<string>(),
            Scope = HostScopeKind.Host,
            StateDirectory = StateDir,
            Stamp = Stamp,
        };
        var ssh = AgentlessRealServer.Plan(snapshot, new RealServerRequest(wanted, null, method, convert, Adopt: false, rcLocal), "rs1");

        // The display form holds the program, every argument and the standard input.
        var localCommands = local.Plan.Steps.Select(s => s.Command.ToDisplayString()).ToList();
        Assert.Empty(local.Plan.Rejected);
        Assert.Equal(localCommands, ssh.Planned.Plan.Steps.Select(s => s.Command.ToDisplayString()));
        Assert.Equal(localCommands, ssh.Operations.OfType<RemoteCommandOperation>().Select(o => o.Command.ToDisplayString()));
        Assert.Equal(local.Changes.Select(c => $"{c.VirtualIP} {c.Action}"), ssh.Planned.Changes.Select(c => $"{c.VirtualIP} {c.Action}"));

        // The sysctl record: written before the first step when the plan raises a value, after the last when it restores.
        var sysctlPath = $"{StateDir}/{SysctlStateFile.FileName}";
        var firstStep = ssh.Operations.ToList().FindIndex(o => o is RemoteCommandOperation);
        var recordOps = ssh.Operations.Select((o, i) => (o, i)).Where(x => x.o is RemoteFileWrite { Path: var p } && p == sysctlPath || x.o is RemoteFileRemove { Path: var q } && q == sysctlPath).ToList();
        if (local.Plan.SysctlRecorded.Count > 0)
        {
            var (op, index) = recordOps[0];
            Assert.True(index < firstStep);
            var written = SysctlStateFile.Parse(((RemoteFileWrite)op).Content, sysctlPath, Stamp);
            Assert.False(written.Stale);
            Assert.Equal(local.Plan.SysctlRecorded.Select(r => r.Key.Name).Order(), written.Records.Select(r => r.Key.Name).Order());
        }

        if (local.Plan.SysctlForgotten.Count > 0)
        {
            var (op, index) = recordOps[^1];
            Assert.True(index > ssh.Operations.ToList().FindLastIndex(o => o is RemoteCommandOperation));
            Assert.IsType<RemoteFileRemove>(op);
        }

        Assert.Equal(local.Plan.SysctlRecorded.Count + local.Plan.SysctlForgotten.Count > 0, recordOps.Count > 0);
        Assert.Equal(Ownership.Read(recordPath, HostScopeKind.Host, rcLocal).Differs(Ownership.Read(recordPath, HostScopeKind.Host, rcLocal).After(localState, local.Recorded, local.Forgotten)),
            ssh.Operations.OfType<RemoteFileWrite>().Any(w => w.Path == $"{StateDir}/{VipRecord.FileName}"));
    }

    [Theory]
    [InlineData(ArpMethod.Arptables, "arptables", "arptables")]
    [InlineData(ArpMethod.Nftables, "nft", "nftables")]
    [InlineData(ArpMethod.Sysctl, "sysctl", "procps")]
    public void AHostWithoutTheMethodsProgram_IsRefusedNamingItsPackage_WithNoOperation(ArpMethod method, string program, string package)
    {
        var snapshot = FreshSnapshot(AgentlessScript.ReportedPrograms.Where(p => p != program));

        var e = Assert.Throws<LvsException>(() => AgentlessRealServer.Plan(snapshot, new RealServerRequest([(IPAddress.Parse(Vip), 32)], null, method, true, false), "rs1"));

        Assert.Equal(LvsErrorKind.ProgramNotFound, e.Kind);
        Assert.Contains($"install {package}", e.Message);
    }

    [Fact]
    public void RestoringSysctlsOnAHostWithoutSysctl_IsRefused_ThoughTheMethodIsArptables()
    {
        var records = SysctlKey.For("eth0").Select(k => new SysctlRecord(k, 0, k.Target)).ToList();
        var snapshot = FreshSnapshot(AgentlessScript.ReportedPrograms.Where(p => p != "sysctl"), OnLo, Vip, ScriptSysctl(1), SysctlStateFile.Render(records, Stamp));

        var e = Assert.Throws<LvsException>(() => AgentlessRealServer.Plan(snapshot, new RealServerRequest([], null, ArpMethod.Arptables, false, false), "rs1"));

        Assert.Equal(LvsErrorKind.ProgramNotFound, e.Kind);
        Assert.Contains("procps", e.Message);
    }

    [Fact]
    public void AStaleSysctlRecord_IsNeverApplied_AndIsRemoved()
    {
        var records = SysctlKey.For("eth0").Select(k => new SysctlRecord(k, 0, k.Target)).ToList();
        var stale = SysctlStateFile.Render(records, Stamp with { BootId = "an-earlier-boot" });
        var snapshot = FreshSnapshot(AgentlessScript.ReportedPrograms, OnLo, Vip, ScriptSysctl(1), stale);

        var plan = AgentlessRealServer.Plan(snapshot, new RealServerRequest([], null, ArpMethod.Arptables, false, false), "rs1");

        Assert.DoesNotContain(plan.Operations.OfType<RemoteCommandOperation>(), o => o.Command.Program == "sysctl");
        Assert.Contains(plan.Operations, o => o is RemoteFileRemove { Path: $"{StateDir}/{SysctlStateFile.FileName}" });
    }

    private AgentlessChannel LocalChannel() => new(_ =>
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(AgentlessScript.Text);
        return psi;
    }) { LockDirectory = _dir };

    [Fact]
    public void ARemoveOperation_RemovesTheFile_AndAMissingFileIsNoFailure()
    {
        var record = Path.Combine(_dir, "arp-sysctl.json");
        File.WriteAllText(record, "{}\n");

        var run = LocalChannel().Run(new SshTarget("rs1.example"), [], _ => new RemoteBatch { Operations = [new RemoteFileRemove(record), new RemoteFileRemove(record)] });

        Assert.True(run.Completed);
        Assert.Equal(2, run.Results.Count);
        Assert.False(File.Exists(record));
    }

    [Fact]
    public void TheScriptsReads_AreWhatThisProcessReadsLocally_StampSysctlsAndNftables()
    {
        var snapshot = LocalChannel().Run(new SshTarget("rs1.example"), [], _ => null, reads: AgentlessRealServer.Reads).Snapshot!;

        Assert.Equal(HostScope.Stamp(), snapshot.Stamp);
        var local = new HostInspector(new Core.Tools.ProcessRunner()).Read(false, default, includeSysctls: true, includeNft: Core.Tools.ToolLocator.TryResolve("nft") is not null);
        var remote = snapshot.ToHostState();
        Assert.Equal(local.Sysctls!.Values.OrderBy(v => v.Key.Name).Select(v => $"{v.Key} {v.Value}"), remote.Sysctls!.Values.OrderBy(v => v.Key.Name).Select(v => $"{v.Key} {v.Value}"));
        Assert.Equal(local.NftArp, remote.NftArp);
        Assert.Contains($"{snapshot.StateDirectory}/{SysctlStateFile.FileName}", snapshot.Files.Keys);
    }

    [Fact]
    public void TheScriptReadsLvsDirectsRedirectRules_InTheServersNamespace_AndNoForeignOne()
    {
        var ns = $"lvt{Guid.NewGuid():N}"[..11];
        Exec("ip", "netns", "add", ns);
        try
        {
            var vip = IPAddress.Parse("203.0.113.9");
            Exec(["ip", "netns", "exec", ns, "iptables", "-t", "nat", "-A", "PREROUTING", .. Core.Parsing.RedirectSyntax.Spec(vip, RedirectProtocol.Tcp, 80)]);
            Exec("ip", "netns", "exec", ns, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", "203.0.113.10/32", "-p", "tcp", "-j", "REDIRECT");
            var channel = new AgentlessChannel(_ =>
            {
                var psi = new System.Diagnostics.ProcessStartInfo("ip");
                foreach (var a in new[] { "netns", "exec", ns, "/bin/sh", "-c", AgentlessScript.Text })
                {
                    psi.ArgumentList.Add(a);
                }

                return psi;
            }) { LockDirectory = _dir };

            var rules = channel.Run(new SshTarget("rs1.example"), [], _ => null, reads: RemoteReads.Redirects).Snapshot!.ReadRedirects();

            var rule = Assert.Single(rules!);
            Assert.Equal((vip, RedirectProtocol.Tcp, 80), (rule.VirtualIP, rule.Protocol, rule.Port));
            Assert.Null(channel.Run(new SshTarget("rs1.example"), [], _ => null).Snapshot!.ReadRedirects());
        }
        finally
        {
            Exec("ip", "netns", "delete", ns);
        }
    }

    private static void Exec(params string[] argv)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(argv[0]) { RedirectStandardError = true };
        foreach (var a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{string.Join(' ', argv)}: {err}");
    }

    private static RemoteSnapshot FreshSnapshot(IEnumerable<string> programs, string extraLo = "", string? managed = null, string sysctl = "", string? sysctlRecord = null)
    {
        var addresses = FakeRunner.Host(extraLoAddrInfo: extraLo).Run(HostInspector.ReadAddressesCommand).StandardOutput;
        return new RemoteSnapshot
        {
            Uid = 0,
            Programs = programs.ToHashSet(),
            Reads = new Dictionary<string, RemoteOutput>
            {
                ["ip"] = new(0, addresses, string.Empty),
                ["sysctl"] = new(0, sysctl, string.Empty),
            },
            Files = new Dictionary<string, string?>
            {
                [$"{StateDir}/{VipRecord.FileName}"] = managed is null ? null : VipRecord.Render([new ManagedVip(IPAddress.Parse(managed), 32, "lo")]),
                [$"{StateDir}/{SysctlStateFile.FileName}"] = sysctlRecord,
            },
            UnreadableFiles = new HashSet<string>(),
            Scope = HostScopeKind.Named,
            StateDirectory = StateDir,
            Stamp = Stamp,
        };
    }

    private static string LocalSysctl(int v) =>
        $"net.ipv4.conf.all.arp_announce = {2 * v}\nnet.ipv4.conf.all.arp_ignore = {v}\n"
        + $"net.ipv4.conf.eth0.arp_announce = {2 * v}\nnet.ipv4.conf.eth0.arp_ignore = {v}\nnet.ipv4.conf.lo.arp_announce = 0\nnet.ipv4.conf.lo.arp_ignore = 0\n";

    private static string ScriptSysctl(int v) =>
        $"all arp_announce {2 * v}\nall arp_ignore {v}\nall rp_filter 2\neth0 arp_announce {2 * v}\neth0 arp_ignore {v}\neth0 rp_filter 0\nlo arp_announce 0\nlo arp_ignore 0\nlo rp_filter 0\n";
}

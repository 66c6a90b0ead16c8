using System.Net;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Persistence.Native;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Persistence;

/// <summary>The persistence plan: which files change, which services are enabled, the same here and over ssh.</summary>
public sealed class PersistencePlanTests : IDisposable
{
    private const string Save = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";
    private const string OnEth0 = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}";
    private const string Debian = "#!/bin/sh -e\n#\n# rc.local\n#\necho foreign line > /dev/null\n\nexit 0\n";

    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");

    private readonly string _dir = Directory.CreateTempSubdirectory("lvs-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PersistenceInput Input(IReadOnlyList<RedirectRule>? redirects = null)
    {
        var state = new HostInspector(FakeRunner.Host(Listing.FromSave(Save), OnEth0)).Read(true, CancellationToken.None);
        var vip = new LvsVip { Address = Vip, PrefixLength = 32, InterfaceName = "eth0", RealIP = IPAddress.Parse("192.0.2.11"), Method = ArpMethod.Arptables };
        return PersistenceInput.For(state, [vip], redirects ?? []);
    }

    private static IReadOnlyList<string> Shown(IEnumerable<RemoteOperation> ops) =>
        ops.Select(o => o is RemoteFileWrite w ? $"{w.Describe()} {w.Mode} x={w.EnsureExecutable}\n{w.Content}" : o.Describe()).ToList();

    [Fact]
    public void RcLocal_DebiansShEdashTemplate_GetsTheBlockAfterTheShebang_KeepsEveryForeignLine_AndASecondRunWritesNothing()
    {
        var host = new FakeHost { Files = { ["/etc/rc.local"] = Debian } };
        var target = new RcLocalTarget("/etc/rc.local");

        var item = target.Plan(Input(), host);

        var write = Assert.IsType<RemoteFileWrite>(Assert.Single(item.Writes));
        Assert.True(write.EnsureExecutable);
        Assert.StartsWith("#!/bin/sh -e\n" + RcLocal.BeginMarker + "\n", write.Content);
        Assert.EndsWith(RcLocal.EndMarker + "\n\n#\n# rc.local\n#\necho foreign line > /dev/null\n\nexit 0\n", write.Content);
        Assert.Equal(Debian, RcLocal.Merge(write.Content, []));
        Assert.Empty(item.Warnings);

        host.Files["/etc/rc.local"] = write.Content;
        host.Executable.Add("/etc/rc.local");
        Assert.Empty(target.Plan(Input(), host).Writes);
    }

    [Fact]
    public void RcLocal_NotExecutable_IsRewrittenExecutable_EvenWhenItsContentIsRight()
    {
        var content = RcLocal.Merge(Debian, RcLocal.RenderBlock(Input().Boot));
        var host = new FakeHost { Files = { ["/etc/rc.local"] = content } };

        var write = Assert.IsType<RemoteFileWrite>(Assert.Single(new RcLocalTarget("/etc/rc.local").Plan(Input(), host).Writes));

        Assert.Equal(content, write.Content);
        Assert.True(write.EnsureExecutable);
    }

    [Fact]
    public void RcLocal_NothingToRecreate_AndNoFile_WritesNoEmptyFile()
    {
        var state = new HostInspector(FakeRunner.Host()).Read(true, CancellationToken.None);

        var item = new RcLocalTarget("/etc/rc.local").Plan(PersistenceInput.For(state, [], []), new FakeHost());

        Assert.Empty(item.Writes);
        Assert.Empty(item.Lines);
    }

    [Fact]
    public void TheSamePlan_IsMadeFromThisDisk_AndFromTheFilesAnSshSessionRead()
    {
        var rc = Path.Combine(_dir, "rc.local");
        var rules = Path.Combine(_dir, "sysconfig", "arptables");
        File.WriteAllText(rc, Debian);
        Directory.CreateDirectory(Path.GetDirectoryName(rules)!);
        IPersistenceTarget[] targets = [new SavedArpRulesTarget(rules), new RcLocalTarget(rc)];
        var redirects = new[] { new RedirectRule(IPAddress.Parse("203.0.113.101"), RedirectProtocol.Tcp, 80, string.Empty) };
        var remote = new RemoteSnapshot
        {
            Uid = 0,
            Programs = new HashSet<string> { "ip", "arptables" },
            Reads = new Dictionary<string, RemoteOutput>(),
            Files = PersistencePlan.FilesToRead(targets).ToDictionary(f => f, f => File.Exists(f) ? File.ReadAllText(f) : null),
            FileModes = new Dictionary<string, string> { [rc] = Convert.ToString((int)File.GetUnixFileMode(rc), 8) },
            UnreadableFiles = new HashSet<string> { Path.GetDirectoryName(rules)! },
        };

        // This host as the fake runner has it: like the snapshot, no service manager, whatever this machine has.
        var local = PersistencePlan.Create(Input(redirects), new LocalPersistenceHost(new FakeRunner().Without("systemctl", "chkconfig")), targets);
        var overSsh = PersistencePlan.Create(Input(redirects), new RemotePersistenceHost(remote), targets);

        Assert.Equal(Shown(local.Operations), Shown(overSsh.Operations));
        Assert.Equal(2, local.Operations.Count);
        Assert.Contains("-j REDIRECT", ((RemoteFileWrite)local.Operations[1]).Content);
    }

    [Fact]
    public void TheLocalExecutor_WritesAtomically_ThenTheSamePlanFindsNothingToDo()
    {
        var rc = Path.Combine(_dir, "etc", "rc.local");
        var targets = new IPersistenceTarget[] { new RcLocalTarget(rc), new SavedArpRulesTarget(Path.Combine(_dir, "etc", "sysconfig", "arptables")) };
        var runner = FakeRunner.Host();

        foreach (var op in PersistencePlan.Create(Input(), new LocalPersistenceHost(runner), targets).Operations)
        {
            OperationExecutor.Run(op, runner, CancellationToken.None);
        }

        Assert.Equal(UnixFileMode.UserExecute, File.GetUnixFileMode(rc) & UnixFileMode.UserExecute);
        Assert.Equal(
            ["INPUT -d 203.0.113.100 DROP", "OUTPUT -s 203.0.113.100 mangle"],
            ArptablesRuleSet.Parse(File.ReadAllText(Path.Combine(_dir, "etc", "sysconfig", "arptables"))).Rules.Select(r => $"{r.Chain} {(r.Destination is null ? "-s " + r.Source : "-d " + r.Destination)} {r.Target}"));
        Assert.Empty(Shown(PersistencePlan.Create(Input(), new LocalPersistenceHost(runner), targets).Operations));
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void SystemdUnit_IsWrittenThenReloaded_AndEnabledOnEveryRun_ButOnlyTheWriteIsAChange()
    {
        var host = new FakeHost { Programs = { "systemctl" } };
        var target = new SystemdUnitTarget(SystemdUnit.DefaultPath, manageService: true);

        var first = target.Plan(Input(), host);
        host.Files[SystemdUnit.DefaultPath] = ((RemoteFileWrite)first.Writes[0]).Content;
        var second = target.Plan(Input(), host);

        Assert.Equal([$"write {SystemdUnit.DefaultPath}", "systemctl daemon-reload"], first.Writes.Select(o => o.Describe().Split(" (")[0]));
        Assert.Equal(["systemctl enable lvsdirect.service"], first.Services.Select(o => o.Describe()));
        Assert.Empty(second.Writes);
        Assert.Equal(["systemctl enable lvsdirect.service"], second.Services.Select(o => o.Describe()));
    }

    [Fact]
    public void SystemdUnit_WithNothingToRecreate_IsDisabledThenRemoved_AndAForeignUnitIsNeverTouched()
    {
        var state = new HostInspector(FakeRunner.Host()).Read(true, CancellationToken.None);
        var empty = PersistenceInput.For(state, [], []);
        var host = new FakeHost { Programs = { "systemctl" }, Files = { [SystemdUnit.DefaultPath] = SystemdUnit.Header + "\n[Unit]\n" } };

        var item = new SystemdUnitTarget(SystemdUnit.DefaultPath, manageService: true).Plan(empty, host);

        Assert.Equal(["systemctl disable lvsdirect.service", $"remove {SystemdUnit.DefaultPath}"], item.Writes.Select(o => o.Describe()));
        host.Files[SystemdUnit.DefaultPath] = "[Unit]\nDescription=someone else's\n";
        Assert.Equal(LvsErrorKind.FileError, Assert.Throws<LvsException>(() => new SystemdUnitTarget(SystemdUnit.DefaultPath, true).Plan(empty, host)).Kind);
    }

    [Fact]
    public void SavedRules_GoWhereTheArptablesServiceLoadsThem_AndTheServiceIsEnabled_OrNowhereWithAWarning()
    {
        var none = new SavedArpRulesTarget(null).Plan(Input(), new FakeHost());
        Assert.True(none.Skipped);
        Assert.Contains("no arptables service", Assert.Single(none.Warnings));

        var host = new FakeHost { Programs = { "systemctl" }, Files = { ["/usr/lib/systemd/system/arptables.service"] = "ExecStart=/usr/sbin/arptables-restore /etc/sysconfig/arptables\n" } };
        var item = new SavedArpRulesTarget(null).Plan(Input(), host);

        Assert.Equal(["systemctl enable arptables.service"], item.Services.Select(o => o.Describe()));
        var write = Assert.IsType<RemoteFileWrite>(Assert.Single(item.Writes));
        Assert.Equal(("/etc/sysconfig/arptables", "0600"), (write.Path, write.Mode));
        Assert.Empty(item.Warnings);
    }

    [Fact]
    public void SysctlFile_OfAnotherTool_IsNeverReplaced_AndOursGoesWithTheLastVipOnLo()
    {
        var state = new HostInspector(FakeRunner.Host()).Read(true, CancellationToken.None);
        var host = new FakeHost { Files = { [SysctlConf.DefaultPath] = SysctlConf.Header + "\nnet.ipv4.conf.all.arp_ignore = 1\n" } };

        var item = new SysctlConfTarget(null).Plan(PersistenceInput.For(state, [], []), host);

        Assert.Equal([$"remove {SysctlConf.DefaultPath}"], item.Writes.Select(o => o.Describe()));
        host.Files[SysctlConf.DefaultPath] = "net.ipv4.conf.all.arp_ignore = 1\n";
        var foreign = new SysctlConfTarget(null).Plan(PersistenceInput.For(state, [], []), host);
        Assert.Empty(foreign.Writes);
        Assert.Contains("not written by LvsDirect", Assert.Single(foreign.Warnings));
    }

    [Fact]
    public void SysctlFile_AfterASwitchToAnotherMethod_OursIsRemoved_ButNeverWrittenAndAForeignOneIsNotWarnedAbout()
    {
        const string onLo = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"lo\"}";
        var sysctls = "net.ipv4.conf.all.arp_announce = 2\nnet.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.eth0.arp_announce = 2\nnet.ipv4.conf.eth0.arp_ignore = 1\nnet.ipv4.conf.lo.arp_announce = 0\nnet.ipv4.conf.lo.arp_ignore = 0\n";
        var stale = SysctlConf.Header + "\nnet.ipv4.conf.all.arp_ignore = 8\n";
        var host = new FakeHost { Files = { [SysctlConf.DefaultPath] = stale } };
        var none = new HostInspector(FakeRunner.Host()).Read(true, CancellationToken.None);
        var needed = new HostInspector(FakeRunner.Host(extraLoAddrInfo: onLo).On(string.Join(' ', ["sysctl", .. ArpSysctls.ReadCommand.Arguments]), sysctls))
            .Read(true, CancellationToken.None, includeSysctls: true);
        var cleanup = new SysctlConfTarget(null, cleanupOnly: true);

        Assert.Equal([$"remove {SysctlConf.DefaultPath}"], cleanup.Plan(PersistenceInput.For(none, [], []), host).Writes.Select(o => o.Describe()));
        var kept = cleanup.Plan(PersistenceInput.For(needed, [], []), host);
        Assert.True(kept.Skipped);
        Assert.Empty(kept.Writes);
        Assert.NotEmpty(new SysctlConfTarget(null).Plan(PersistenceInput.For(needed, [], []), host).Writes);
        host.Files[SysctlConf.DefaultPath] = "net.ipv4.conf.all.arp_ignore = 1\n";
        var foreign = cleanup.Plan(PersistenceInput.For(none, [], []), host);
        Assert.Empty(foreign.Writes);
        Assert.Empty(foreign.Warnings);
    }

    /// <summary>A host made of a dictionary: files, which are executable, which programs it has.</summary>
    private sealed class FakeHost : IPersistenceHost
    {
        public Dictionary<string, string?> Files { get; } = [];

        public HashSet<string> Executable { get; } = [];

        public HashSet<string> Programs { get; } = [];

        public string? ReadText(string path) => Files.GetValueOrDefault(path);

        public bool Exists(string path) => Files.GetValueOrDefault(path) is not null;

        public bool IsExecutable(string path) => Executable.Contains(path);

        public bool HasProgram(string name) => Programs.Contains(name);

        public string? Locate(string name) => Programs.Contains(name) ? "/usr/sbin/" + name : null;
    }

    [Fact]
    public void NativeTarget_KeepsTheVipInTheNetworkdDropIn_OnlyOnceItsSuppressionIsSaved_AndASecondRunWritesNothing()
    {
        var network = Path.Combine(_dir, "etc", "systemd", "network");
        Directory.CreateDirectory(network);
        const string Own = "[Match]\nName=eth0\n\n[Network]\nAddress=192.0.2.11/24\n";
        File.WriteAllText(Path.Combine(network, "10-eth0.network"), Own);
        var host = new LocalPersistenceHost(FakeRunner.Host(Listing.FromSave(Save), OnEth0));
        var target = new NativeVipTarget(NativeTarget.Networkd, _dir, SavedArpRulesTarget.DefaultPath, [new NativeVip(Vip, 32, "eth0", null, ArpMethod.Arptables)], null);

        // Set-LvsRealServer has no -Force, so the refusal does not offer one.
        var refused = Assert.Throws<LvsException>(() => target.Plan(Input(), host));
        Assert.Equal(LvsErrorKind.SuppressionNotPersisted, refused.Kind);
        Assert.DoesNotContain("-Force", refused.Message);
        Assert.Single(Directory.GetFileSystemEntries(network));

        var saved = Path.Combine(_dir, SavedArpRulesTarget.DefaultPath.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(saved)!);
        File.WriteAllText(saved, Save);
        var write = Assert.IsType<RemoteFileWrite>(Assert.Single(target.Plan(Input(), host).Writes));
        Assert.Equal(Path.Combine(network, "10-eth0.network.d", "90-lvsdirect.conf"), write.Path);
        Assert.Contains("Address=203.0.113.100/32", write.Content);

        Directory.CreateDirectory(Path.GetDirectoryName(write.Path)!);
        File.WriteAllText(write.Path, write.Content);
        Assert.Empty(target.Plan(Input(), host).Writes);
        Assert.Equal(Own, File.ReadAllText(Path.Combine(network, "10-eth0.network")));
    }
}

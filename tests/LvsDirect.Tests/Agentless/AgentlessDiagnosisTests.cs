using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Diagnostics.Checks;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Agentless;

/// <summary>
/// The agentless diagnosis against the local probe: the same host read through both gives the same snapshot and
/// the same checks, because both return the same raw reads and one builder makes the snapshot.
/// </summary>
public sealed class AgentlessDiagnosisTests : IDisposable
{
    private const string Vip = "203.0.113.100";

    private const string Ip = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"operstate":"UNKNOWN","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","UP"],"operstate":"UP","address":"02:00:00:00:00:11","addr_info":[{"family":"inet","local":"192.0.2.11","prefixlen":24,"scope":"global","label":"eth0"},{"family":"inet","local":"203.0.113.100","prefixlen":32,"scope":"global","label":"eth0"}]}]
        [{"dst":"default","gateway":"192.0.2.254","dev":"eth0","flags":[]}]
        """;

    private const string Nft = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "arp", "name": "lvsdirect", "handle": 1}}, {"chain": {"family": "arp", "table": "lvsdirect", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"chain": {"family": "arp", "table": "lvsdirect", "name": "output", "handle": 2, "type": "filter", "hook": "output", "prio": 0, "policy": "accept"}}, {"rule": {"family": "arp", "table": "lvsdirect", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "arp", "field": "daddr ip"}}, "right": "203.0.113.100"}}, {"drop": null}]}}, {"rule": {"family": "arp", "table": "lvsdirect", "chain": "output", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "arp", "field": "saddr ip"}}, "right": "203.0.113.100"}}, {"mangle": {"key": {"payload": {"protocol": "arp", "field": "saddr ip"}}, "value": "192.0.2.11"}}]}}]}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-diagnosis-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(string name) => Path.Combine(_dir, name);

    /// <summary>The boot files of an nftables-method host, with the sysctl.d folder under the temp folder.</summary>
    private DiagnosisPaths NftHostFiles()
    {
        var entries = new List<NftArpEntry> { new(IPAddress.Parse(Vip), true, IPAddress.Parse("192.0.2.11")) };
        File.WriteAllText(At("rc.local"), string.Join('\n', RcLocal.Merge("#!/bin/sh\n", RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Nft), [new RcVip(IPAddress.Parse(Vip), 32, "eth0", null, null, null)]))));
        File.SetUnixFileMode(At("rc.local"), (UnixFileMode)Convert.ToInt32("755", 8));
        File.WriteAllText(At("arp.nft"), NftConf.Render(entries));
        File.WriteAllText(At("nftables.conf"), "#!/usr/sbin/nft -f\n" + NftConf.IncludeLine(At("arp.nft")) + "\n");
        return new DiagnosisPaths
        {
            RcLocalPath = At("rc.local"),
            SavedRulesPath = At("arptables"),
            SystemdUnitPath = At("lvsdirect.service"),
            NftFilePath = At("arp.nft"),
            NftConfigPaths = [At("nftables.conf"), At("missing.conf")],
        };
    }

    private static string Key(RealServerCheck c) => $"{c.ComputerName}|{c.Check}|{c.Target}|{c.Status}|{c.Detail}|{c.Remediation}";

    [Fact]
    public void TheSameRawReads_GiveTheSameSnapshotAndChecks_FromTheLocalProbeAndFromTheScriptsOutput()
    {
        var paths = NftHostFiles();
        var sysctlRoot = Directory.CreateDirectory(At("conf")).FullName;
        foreach (var (conf, key, value) in new[] { ("all", "rp_filter", "2"), ("eth0", "arp_ignore", "0"), ("lo", "arp_announce", "0") })
        {
            Directory.CreateDirectory(Path.Combine(sysctlRoot, conf));
            File.WriteAllText(Path.Combine(sysctlRoot, conf, key), value + "\n");
        }

        var iptables = "-P PREROUTING ACCEPT\n-A PREROUTING -d 203.0.113.7/32 -p tcp -m tcp --dport 80 -m comment --comment lvsdirect -j REDIRECT\n";
        var ss = "tcp LISTEN 0 128 0.0.0.0:80 0.0.0.0:*\n";
        var runner = FakeRunner.Host()
            .On("ip -j -batch -", Ip)
            .On("nft -j list table arp lvsdirect", Nft)
            .On("iptables -t nat -S PREROUTING", iptables)
            .On("ss -H -l -n -t -u", ss);
        var probe = new RealServerProbe(runner, _ => true) { SysctlRoot = sysctlRoot };
        var reads = RealServerDiagnosis.ReadsFor(withServices: true);

        var local = probe.ReadRaw(paths, reads, isRoot: true);

        // What the script prints for the same host, as the channel parses it.
        var (files, modes) = ScriptFiles(paths, reads);
        var remote = new RemoteSnapshot
        {
            Uid = 0,
            Programs = new HashSet<string> { "ip", "arptables", "nft", "iptables", "ss", "flock", "base64" },
            Reads = new Dictionary<string, RemoteOutput>
            {
                ["ip"] = new(0, Ip, string.Empty),
                ["arplist"] = new(0, "Chain INPUT (policy ACCEPT)\n\nChain OUTPUT (policy ACCEPT)\n", string.Empty),
                ["arpversion"] = new(0, "arptables v1.8.9 (nf_tables)\n", string.Empty),
                ["nft"] = new(0, Nft, string.Empty),
                ["redirects"] = new(0, iptables, string.Empty),
                ["sockets"] = new(0, ss, string.Empty),
                ["sysctl"] = new(0, "all rp_filter 2\neth0 arp_ignore 0\nlo arp_announce 0\n", string.Empty),
            },
            Files = files,
            UnreadableFiles = new HashSet<string>(),
            FileModes = modes,
        };

        Assert.Equal(remote.Files.OrderBy(f => f.Key), local.Files.OrderBy(f => f.Key));
        Assert.Equal(remote.FileModes.OrderBy(f => f.Key), local.FileModes.OrderBy(f => f.Key));
        Assert.Equal("755", local.FileModes[At("rc.local")]);
        Assert.Equal(remote.Reads.Keys.Order(), local.Reads.Keys.Order());
        Assert.All(remote.Reads.Where(r => r.Key != "sysctl"), r => Assert.Equal(r.Value, local.Reads[r.Key]));
        Assert.Equal(
            InterfaceSysctls.Parse(remote.Reads["sysctl"].StandardOutput).Effective("eth0", InterfaceSysctls.RpFilter),
            InterfaceSysctls.Parse(local.Reads["sysctl"].StandardOutput).Effective("eth0", InterfaceSysctls.RpFilter));
        var request = new DiagnosisRequest { Services = [new ServiceEndpoint(IPAddress.Parse(Vip), 80, "tcp")], DirectorAddress = IPAddress.Parse("192.0.2.1") };

        var viaProbe = RealServerDiagnosis.Run(RealServerSnapshotBuilder.Build(local, "rs1", paths, withListeners: true), request);
        var viaScript = RealServerDiagnosis.Run(RealServerSnapshotBuilder.Build(remote, "rs1", paths, withListeners: true), request);

        Assert.Equal(viaScript.Select(Key), viaProbe.Select(Key));
        // The nftables host passes its ARP and persistence checks on both paths; the REDIRECT VIP is found too.
        Assert.Equal(CheckStatus.Pass, Assert.Single(viaScript, c => c.Check == CheckNames.ArpSuppression && c.Target == Vip).Status);
        Assert.Equal(CheckStatus.Pass, Assert.Single(viaScript, c => c.Check == CheckNames.SuppressionPersisted && c.Target == Vip).Status);
        Assert.Contains(viaScript, c => c.Check == CheckNames.VipPresent && c.Target == "203.0.113.7" && c.Status == CheckStatus.Pass);
        Assert.Equal(CheckStatus.Pass, Assert.Single(viaScript, c => c.Check == CheckNames.Listener).Status);
    }

    [Fact]
    public void WithoutRoot_TheRuleSetsAreUnknownOnBothPaths_WhateverTheScriptsReadsPrinted()
    {
        var paths = NftHostFiles();
        var probe = new RealServerProbe(FakeRunner.Host().On("ip -j -batch -", Ip), _ => true) { SysctlRoot = At("none") };
        var local = probe.ReadRaw(paths, RealServerDiagnosis.ReadsFor(withServices: false), isRoot: false);
        var remote = new RemoteSnapshot
        {
            Uid = 1000,
            Programs = local.Programs,
            Reads = new Dictionary<string, RemoteOutput>(local.Reads)
            {
                ["arplist"] = new(4, string.Empty, "arptables: Permission denied (you must be root)\n"),
                ["nft"] = new(1, string.Empty, "Operation not permitted\n"),
                ["redirects"] = new(4, string.Empty, "iptables: Permission denied (you must be root).\n"),
            },
            Files = local.Files,
            UnreadableFiles = local.UnreadableFiles,
            FileModes = local.FileModes,
        };

        Assert.DoesNotContain("arplist", local.Reads.Keys);
        var checks = new[] { local, remote }
            .Select(r => RealServerDiagnosis.Run(RealServerSnapshotBuilder.Build(r, "rs1", paths, withListeners: false), new DiagnosisRequest()).Select(Key).ToList())
            .ToList();

        Assert.Equal(checks[0], checks[1]);
        Assert.Contains(checks[0], k => k.StartsWith($"rs1|{CheckNames.ArpSuppression}|{Vip}|Warning|", StringComparison.Ordinal));
    }

    [Fact]
    public void TheScriptOverSsh_AndTheLocalProbe_ReadThisHostAlike_AndGiveTheSameChecks()
    {
        var paths = NftHostFiles();
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var channel = new AgentlessChannel(LocalShell) { LockDirectory = _dir };
        var probe = new RealServerProbe(new ProcessRunner());
        var request = new DiagnosisRequest { VirtualIPs = [IPAddress.Parse(Vip)], Services = [new ServiceEndpoint(IPAddress.Parse(Vip), port, "tcp")] };
        List<string> Local() => RealServerDiagnosis.Run(probe.Read("rs1", paths, withListeners: true, Privileges.IsRoot), request).Select(Key).ToList();

        // Other processes may change this host between two reads: compare the script with a probe that read the
        // same state just before and just after it.
        List<string>? before = null, viaScript = null, after = null;
        for (var attempt = 0; attempt < 3 && (after is null || !before!.SequenceEqual(after)); attempt++)
        {
            before = Local();
            viaScript = RealServerDiagnosis.Run(
                RealServerSnapshotBuilder.Build(AgentlessDiagnosis.Read(channel, new SshTarget("rs1"), paths, RealServerDiagnosis.ReadsFor(withServices: true), CancellationToken.None), "rs1", paths, withListeners: true),
                request).Select(Key).ToList();
            after = Local();
        }

        Assert.Equal(before, after);
        Assert.Equal(before, viaScript);
        Assert.Contains(viaScript!, k => k.StartsWith($"rs1|{CheckNames.Listener}|{Vip}:{port}/tcp|Pass|", StringComparison.Ordinal));
        Assert.Contains(viaScript!, k => k.StartsWith($"rs1|{CheckNames.VipPersisted}|{Vip}|Fail|", StringComparison.Ordinal));
    }

    [Fact]
    public void RcDFolder_MakesRcDRcLocalTheFile_AndModeDecidesExecutable()
    {
        var remote = new RemoteSnapshot
        {
            Uid = 0,
            Programs = new HashSet<string> { "ip" },
            Reads = new Dictionary<string, RemoteOutput> { ["ip"] = new(0, Ip, string.Empty) },
            Files = new Dictionary<string, string?> { ["/etc/rc.d/rc.local"] = "#!/bin/sh\n" },
            FileModes = new Dictionary<string, string> { ["/etc/rc.d/rc.local"] = "644" },
            UnreadableFiles = new HashSet<string> { "/etc/rc.d" },
        };

        var snap = RealServerSnapshotBuilder.Build(remote, "rs1", new DiagnosisPaths(), withListeners: false);

        Assert.Equal("/etc/rc.d/rc.local", snap.Persisted.RcLocalPath);
        Assert.True(snap.Persisted.RcLocalExists);
        Assert.False(snap.Persisted.RcLocalExecutable);
        Assert.False(snap.ArptablesInstalled);
        Assert.Null(snap.Listeners);
    }

    [Fact]
    public void SysctlFiles_AreOrderedLikeSystemdSysctl()
    {
        var ordered = PersistedConfig.OrderSysctlFiles(["/usr/lib/sysctl.d/50-a.conf", "/etc/sysctl.d/50-a.conf", "/usr/lib/sysctl.d/10-b.conf", "/etc/rc.local"]);

        Assert.Equal(["/usr/lib/sysctl.d/10-b.conf", "/etc/sysctl.d/50-a.conf", "/etc/sysctl.conf"], ordered);
    }

    [Fact]
    public void TheScriptsReads_BecomeTheSnapshot_WithTheSysctlFilesInSystemdOrder()
    {
        var block = string.Join('\n', RcLocal.Merge(null, [RcLocal.BeginMarker, "ip addr add 203.0.113.10/32 dev eth0", RcLocal.EndMarker]));
        var remote = new RemoteSnapshot
        {
            Uid = 0,
            Programs = new HashSet<string> { "ip" },
            Reads = new Dictionary<string, RemoteOutput>
            {
                ["ip"] = new(0, Ip, string.Empty),
                ["sysctl"] = new(0, "all arp_ignore 1\nall arp_announce 2\neth0 rp_filter 1\nbad line\n", string.Empty),
            },
            Files = new Dictionary<string, string?> { ["/etc/rc.local"] = block, ["/etc/rc.d/rc.local"] = null, ["/etc/sysctl.d/90-lvs.conf"] = "net.ipv4.conf.all.arp_ignore = 1\n", ["/usr/lib/sysctl.d/90-lvs.conf"] = "net.ipv4.conf.all.arp_ignore = 8\n" },
            FileModes = new Dictionary<string, string> { ["/etc/rc.local"] = "755" },
            UnreadableFiles = new HashSet<string>(),
        };

        var snap = RealServerSnapshotBuilder.Build(remote, "rs1", new DiagnosisPaths(), withListeners: false);

        Assert.Equal("rs1", snap.ComputerName);
        Assert.Equal("/etc/rc.local", snap.Persisted.RcLocalPath);
        Assert.True(snap.Persisted.RcLocalExecutable);
        Assert.Equal("203.0.113.10", Assert.Single(snap.Persisted.RcAddresses).Address.ToString());
        Assert.Equal(1, snap.Persisted.BootSysctl("all", "arp_ignore"));
        Assert.Equal(2, snap.Sysctls.Effective("eth0", InterfaceSysctls.ArpAnnounce));
        Assert.Equal(1, snap.Sysctls.Get("eth0", InterfaceSysctls.RpFilter));
        Assert.False(snap.ArptablesInstalled);
        Assert.False(snap.NftInstalled);
        Assert.Null(snap.Listeners);
        Assert.Contains(snap.State.Interfaces, i => i.Name == "eth0");
    }

    /// <summary>The files the script reads for <paramref name="reads"/>, as it reports them: text and mode, or null when missing.</summary>
    private static (Dictionary<string, string?> Files, Dictionary<string, string> Modes) ScriptFiles(DiagnosisPaths paths, HostReads reads)
    {
        var files = new Dictionary<string, string?>();
        var modes = new Dictionary<string, string>();
        foreach (var f in RealServerReads.Files(paths, reads).Concat(PersistedConfig.DefaultSysctlFiles()).Distinct())
        {
            files[f] = File.Exists(f) ? File.ReadAllText(f) : null;
            if (File.Exists(f))
            {
                modes[f] = Convert.ToString((int)File.GetUnixFileMode(f), 8);
            }
        }

        return (files, modes);
    }

    private static ProcessStartInfo LocalShell(SshTarget target)
    {
        var psi = new ProcessStartInfo("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(AgentlessScript.Text);
        return psi;
    }
}

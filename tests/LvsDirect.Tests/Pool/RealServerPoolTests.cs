using System.Management.Automation;
using System.Net;
using LvsDirect.Commands;
using LvsDirect.Core.Config;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;
using LvsDirect.Core.Pool;
using LvsDirect.Remoting;
using Xunit;

namespace LvsDirect.Tests.Pool;

public class RealServerPoolTests
{
    private static IPAddress A(string s) => IPAddress.Parse(s);

    private static LvsVirtualService Service(string? vip, LvsForwardingMethod method, params string[] realServers) => new()
    {
        Address = vip is null ? null : A(vip),
        Port = 80,
        ForwardingMethod = method,
        FirewallMark = vip is null ? 7 : null,
        SourceFile = "keepalived.conf",
        SourceLine = 1,
        RealServers = realServers.Select(r => new LvsRealServerEntry { Address = A(r), Port = 80, ForwardingMethod = method }).ToList(),
    };

    [Fact]
    public void GroupByRealServer_GivesEachRealServerEveryDrVipItServes_InFirstSeenOrder()
    {
        var (assignments, skipped) = RealServerPool.GroupByRealServer(
        [
            Service("203.0.113.100", LvsForwardingMethod.Direct, "192.0.2.11", "192.0.2.12"),
            Service("203.0.113.11", LvsForwardingMethod.Direct, "192.0.2.12", "192.0.2.13"),
            Service("203.0.113.100", LvsForwardingMethod.Direct, "192.0.2.12"),
        ]);

        Assert.Empty(skipped);
        Assert.Equal(["192.0.2.11", "192.0.2.12", "192.0.2.13"], assignments.Select(a => a.Address.ToString()));
        Assert.Equal(["203.0.113.100"], assignments[0].VirtualIPs.Select(v => v.ToString()));
        Assert.Equal(["203.0.113.100", "203.0.113.11"], assignments[1].VirtualIPs.Select(v => v.ToString()));
        Assert.Equal(["203.0.113.11"], assignments[2].VirtualIPs.Select(v => v.ToString()));
    }

    [Fact]
    public void GroupByRealServer_SkipsNatTunnelAndFwmark_WithAReason_AndAssignsIPv6VipsLikeOthers()
    {
        var (assignments, skipped) = RealServerPool.GroupByRealServer(
        [
            Service("198.51.100.10", LvsForwardingMethod.Nat, "192.0.2.11"),
            Service("198.51.100.11", LvsForwardingMethod.Tunnel, "192.0.2.11"),
            Service(null, LvsForwardingMethod.Direct, "192.0.2.11"),
            Service("2001:db8::1", LvsForwardingMethod.Direct, "192.0.2.11"),
            Service("203.0.113.10", LvsForwardingMethod.Direct, "192.0.2.14"),
        ]);

        Assert.Equal(["192.0.2.11", "192.0.2.14"], assignments.Select(a => a.Address.ToString()));
        Assert.Equal(["2001:db8::1"], assignments[0].VirtualIPs.Select(v => v.ToString()));
        Assert.Equal(["203.0.113.10"], assignments[1].VirtualIPs.Select(v => v.ToString()));
        Assert.Equal(3, skipped.Count);
        Assert.Contains("Nat", skipped[0].Why);
        Assert.Contains("Tunnel", skipped[1].Why);
        Assert.Contains("firewall-mark", skipped[2].Why);
    }

    [Fact]
    public void GroupByRealServer_IpvsadmMixedMethods_OnlyDirectRealServersGetTheVip()
    {
        var service = new LvsVirtualService
        {
            Address = A("203.0.113.20"),
            ForwardingMethod = LvsForwardingMethod.Direct,
            SourceFile = "rules.save",
            RealServers =
            [
                new LvsRealServerEntry { Address = A("192.0.2.11"), ForwardingMethod = LvsForwardingMethod.Direct },
                new LvsRealServerEntry { Address = A("192.0.2.12"), ForwardingMethod = LvsForwardingMethod.Nat },
            ],
        };

        var (assignments, skipped) = RealServerPool.GroupByRealServer([service]);

        Assert.Equal("192.0.2.11", Assert.Single(assignments).Address.ToString());
        Assert.Contains("192.0.2.12", Assert.Single(skipped).Why);
    }

    [Fact]
    public void Summarize_OneEntryPerVip_AddedRemovedOrUnchanged()
    {
        ItemChange C(string subject, string vip, ChangeKind kind) => new(subject, A(vip), kind, "d");
        var changes = RealServerPool.Summarize(
            [A("203.0.113.1"), A("203.0.113.2"), A("203.0.113.3")],
            [A("203.0.113.9"), A("203.0.113.8")],
            [
                C("ArpSuppression", "203.0.113.1", ChangeKind.Added), C("Address", "203.0.113.1", ChangeKind.Added),
                C("ArpSuppression", "203.0.113.2", ChangeKind.Unchanged), C("Address", "203.0.113.2", ChangeKind.Unchanged),
                C("ArpSuppression", "203.0.113.3", ChangeKind.Replaced), C("Address", "203.0.113.3", ChangeKind.Unchanged),
                C("Address", "203.0.113.9", ChangeKind.Removed), C("ArpSuppression", "203.0.113.9", ChangeKind.Removed),
                C("ArpSuppression", "203.0.113.8", ChangeKind.Unchanged),
            ]);

        Assert.Equal(
            ["Added 203.0.113.1", "Unchanged 203.0.113.2", "Added 203.0.113.3", "Removed 203.0.113.9", "Unchanged 203.0.113.8"],
            changes.Select(c => c.ToString()));
        Assert.Equal(RealServerStatus.Changed, RealServerPool.StatusOf(changes, persistenceChanged: false, whatIf: false));
        Assert.Equal(RealServerStatus.WhatIf, RealServerPool.StatusOf(changes, persistenceChanged: false, whatIf: true));
        Assert.Equal(RealServerStatus.Unchanged, RealServerPool.StatusOf([changes[1], changes[4]], persistenceChanged: false, whatIf: true));
        Assert.Equal(RealServerStatus.Changed, RealServerPool.StatusOf([changes[1]], persistenceChanged: true, whatIf: false));
    }

    [Fact]
    public void FromRemote_RebuildsTheHostsResult_NamedAndTimedFromHere()
    {
        // What remoting delivers: a deserialized result whose VIP lists arrived as address strings.
        var remote = new PSObject();
        remote.TypeNames.Insert(0, "Deserialized.LvsDirect.Core.Model.RealServerResult");
        remote.Properties.Add(new PSNoteProperty("ComputerName", "localhost"));
        remote.Properties.Add(new PSNoteProperty("Status", "Changed"));
        remote.Properties.Add(new PSNoteProperty("Method", "Arptables"));
        remote.Properties.Add(new PSNoteProperty("Changes", new[] { "Added 203.0.113.1", "Removed 203.0.113.9" }));
        remote.Properties.Add(new PSNoteProperty("Added", new[] { "203.0.113.1" }));
        remote.Properties.Add(new PSNoteProperty("Removed", new[] { "203.0.113.9" }));
        remote.Properties.Add(new PSNoteProperty("Unchanged", Array.Empty<string>()));
        remote.Properties.Add(new PSNoteProperty("PersistenceChanged", true));
        remote.Properties.Add(new PSNoteProperty("Commands", new[] { "ip -batch -" }));
        var run = new HostRunResult { ComputerName = "rs1", ModuleInstalled = true, Connected = true, Duration = TimeSpan.FromSeconds(2) };
        run.Output.Add(remote);

        var r = SetLvsRealServerCommand.FromRemote(run);

        Assert.Equal("rs1", r.ComputerName);
        Assert.Equal(RealServerStatus.Changed, r.Status);
        Assert.Equal(["203.0.113.1"], r.Added.Select(a => a.ToString()));
        Assert.Equal(["203.0.113.9"], r.Removed.Select(a => a.ToString()));
        Assert.True(r.PersistenceChanged);
        Assert.True(r.ModuleInstalled);
        Assert.Equal(TimeSpan.FromSeconds(2), r.Duration);
        Assert.Equal(["ip -batch -"], r.Commands);
        Assert.Null(r.Error);
    }

    [Fact]
    public void FromRemote_UnreachableHost_IsFailedWithHostUnreachable()
    {
        var run = new HostRunResult { ComputerName = "rs3", Failure = new InvalidOperationException("ssh: connect to host rs3 port 22: Connection refused") };

        var r = SetLvsRealServerCommand.FromRemote(run);

        Assert.Equal(RealServerStatus.Failed, r.Status);
        Assert.Equal("HostUnreachable", r.ErrorId);
        Assert.Contains("Connection refused", r.Error);
        Assert.Empty(r.Changes);
    }

    [Fact]
    public void FromRemote_CommandFailedThere_KeepsTheRemoteErrorId()
    {
        var run = new HostRunResult { ComputerName = "rs2", Connected = true };
        run.Errors.Add(new ErrorRecord(new InvalidOperationException("Set-LvsRealServer needs root"), "NotRoot,LvsDirect.Commands.SetLvsRealServerCommand", ErrorCategory.PermissionDenied, null));

        var r = SetLvsRealServerCommand.FromRemote(run);

        Assert.Equal(RealServerStatus.Failed, r.Status);
        Assert.Equal("NotRoot", r.ErrorId);
        Assert.Contains("needs root", r.Error);
    }

    [Fact]
    public void FromRemote_APowerShellErrorThere_IsRemoteFailed_WithTheRemoteMessage()
    {
        var run = new HostRunResult { ComputerName = "rs2", Connected = true };
        run.Errors.Add(new ErrorRecord(new InvalidOperationException("A parameter cannot be found that matches parameter name 'Persist'."), "NamedParameterNotFound,LvsDirect.Commands.SetLvsRealServerCommand", ErrorCategory.InvalidArgument, null));

        var r = SetLvsRealServerCommand.FromRemote(run);

        Assert.Equal(RealServerStatus.Failed, r.Status);
        Assert.Equal("RemoteFailed", r.ErrorId);
        Assert.Contains("parameter name 'Persist'", r.Error);
    }

    [Fact]
    public void ModulePayload_FingerprintChangesWithAnyFile_AndSkipsDotFiles()
    {
        var dir = Directory.CreateTempSubdirectory("lvspayload-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "LvsDirect.psd1"), "@{ ModuleVersion = '1.2.3' }");
            Directory.CreateDirectory(Path.Combine(dir, "en-US"));
            File.WriteAllText(Path.Combine(dir, "en-US", "help.xml"), "a");
            File.WriteAllText(Path.Combine(dir, ".lvsdirect-build"), "old");
            var first = ModulePayload.FromFolder(dir);
            File.WriteAllText(Path.Combine(dir, "en-US", "help.xml"), "b");
            var second = ModulePayload.FromFolder(dir);

            Assert.Equal("1.2.3", first.Version);
            Assert.Equal(["LvsDirect.psd1", "en-US/help.xml"], first.Files.Keys);
            Assert.NotEqual(first.Fingerprint, second.Fingerprint);

            // What a host receives: one zip of exactly those files.
            using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(second.Archive), System.IO.Compression.ZipArchiveMode.Read);
            Assert.Equal(["LvsDirect.psd1", "en-US/help.xml"], zip.Entries.Select(e => e.FullName));
            foreach (var entry in zip.Entries)
            {
                using var content = new MemoryStream();
                using (var s = entry.Open())
                {
                    s.CopyTo(content);
                }

                Assert.Equal(second.Files[entry.FullName], content.ToArray());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

using System.Diagnostics;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Diagnostics.Checks;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;
using Xunit;

namespace LvsDirect.Tests.Agentless;

/// <summary>
/// Runs the real agentless script with a local sh in place of ssh (the bytes the server would receive are
/// the same). Only read-only commands and files under a temp folder are used, so the machine is not changed.
/// </summary>
public sealed class AgentlessChannelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-agentless-").FullName;
    private readonly SshTarget _target = new("rs1.example");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private AgentlessChannel Channel() => new(LocalShell) { LockDirectory = _dir };

    private static ProcessStartInfo LocalShell(SshTarget target)
    {
        var psi = new ProcessStartInfo("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(AgentlessScript.Text);
        return psi;
    }

    [Fact]
    public void Script_IsFixedAndCarriesNoSingleQuote()
    {
        Assert.DoesNotContain('\'', AgentlessScript.Text);
        Assert.StartsWith("sh -c '", AgentlessScript.RemoteCommand);
        Assert.EndsWith("'", AgentlessScript.RemoteCommand);
    }

    [Fact]
    public void Snapshot_ReadsStateAndFilesExactly()
    {
        var tricky = Path.Combine(_dir, "rc.local");
        var content = "#!/bin/sh\n==not a marker\n  indented \\ back slash\nünïcode\nno newline at the end";
        File.WriteAllText(tricky, content);
        var missing = Path.Combine(_dir, "missing");

        var run = Channel().Run(_target, [tricky, missing], _ => null);

        var snap = Assert.IsType<RemoteSnapshot>(run.Snapshot);
        Assert.Equal(0, snap.Uid);
        Assert.Contains("ip", snap.Programs);
        Assert.Equal(content, snap.Files[tricky]);
        Assert.Null(snap.Files[missing]);
        var state = snap.ToHostState();
        Assert.Contains(state.Interfaces, i => i.Name == "lo");
        Assert.Empty(run.Results);
        Assert.True(run.Completed);
    }

    [Fact]
    public void Snapshot_NamesItsScope_LikeHostScope_AndReadsTheOwnershipRecordThere()
    {
        var scope = HostScope.Current();
        var stateDir = scope.Kind switch
        {
            HostScopeKind.Host => _dir + "/lib",
            HostScopeKind.Named => $"{_dir}/lib/netns/{scope.Name}",
            _ => scope.RuntimeDirectoryUnder(_dir),
        };
        HostScope.EnsurePrivateDirectory(stateDir, _dir);
        VipRecord.Save(VipRecord.PathIn(stateDir), [new ManagedVip(System.Net.IPAddress.Parse("203.0.113.5"), 32, "eth0")]);

        var snap = Channel().Run(_target, [], _ => null).Snapshot!;

        Assert.Equal((scope.Kind, stateDir), (snap.Scope, snap.StateDirectory));
        Assert.True(snap.ReadOwnership(null).IsManaged(System.Net.IPAddress.Parse("203.0.113.5")));
        Assert.Empty(Directory.GetDirectories(scope.RuntimeDirectoryUnder(_dir), ".tmp.*"));
    }

    [Fact]
    public void Script_UsesNoWorldWritableFolder()
    {
        Assert.DoesNotContain("/tmp", AgentlessScript.Text);
        Assert.DoesNotContain("/run/lock", AgentlessScript.Text);
        Assert.Contains("mktemp -d \"$rundir/", AgentlessScript.Text);
    }

    [Fact]
    public void Snapshot_GivesModesAndTellsFoldersFromMissingFiles_AndReadsSysctlsAndSocketsOnRequest()
    {
        var script = Path.Combine(_dir, "rc.local");
        File.WriteAllText(script, "#!/bin/sh\n");
        File.SetUnixFileMode(script, (UnixFileMode)Convert.ToInt32("750", 8));
        var sockets = RealServerReads.Commands.Single(c => c.Name == "sockets");

        var run = Channel().Run(_target, [script, _dir, Path.Combine(_dir, "none")], _ => null, reads: RemoteReads.Sysctl, commands: [sockets]);

        var snap = run.Snapshot!;
        Assert.Equal("750", snap.FileModes[script]);
        Assert.True(snap.Exists(_dir));
        Assert.Contains(_dir, snap.UnreadableFiles);
        Assert.False(snap.Exists(Path.Combine(_dir, "none")));
        var sysctl = snap.Reads["sysctl"].StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = File.ReadAllText("/proc/sys/net/ipv4/conf/all/arp_ignore").Trim();
        Assert.Contains($"all arp_ignore {expected}", sysctl);
        Assert.Contains(sysctl, l => l.StartsWith("lo rp_filter ", StringComparison.Ordinal));
        Assert.Equal(0, snap.Reads["sockets"].ExitCode);
        Assert.DoesNotContain("sysctl", Channel().Run(_target, [], _ => null).Snapshot!.Reads.Keys);
    }

    [Fact]
    public void DeclaredReads_RunAsArgumentVectors_AndAMissingProgramGivesNoOutput()
    {
        var run = Channel().Run(_target, [], _ => null, commands:
        [
            new CommandRead("echoed", ToolCommand.Create("ip", "-o", "link", "show", "dev", "lo; echo pwned"), HostReads.Addresses, NeedsRoot: false),
            new CommandRead("lo", ToolCommand.Create("ip", "-o", "link", "show", "dev", "lo"), HostReads.Addresses, NeedsRoot: false),
        ]);

        var snap = run.Snapshot!;
        Assert.NotEqual(0, snap.Reads["echoed"].ExitCode);
        Assert.DoesNotContain("pwned", snap.Reads["echoed"].StandardOutput);
        Assert.Contains("lo:", snap.Reads["lo"].StandardOutput);
    }

    [Theory]
    [InlineData("sh", "name")]
    [InlineData("ip", "Bad-Name")]
    [InlineData("ip", "1st")]
    public void DeclaredReads_OfAProgramNotOnTheReadListOrWithABadName_AreRefused(string program, string name)
    {
        var ex = Assert.Throws<LvsException>(() => Channel().Run(_target, [], _ => null, commands: [new CommandRead(name, ToolCommand.Create(program, "-c", "true"), HostReads.Addresses, NeedsRoot: false)]));

        Assert.Equal(LvsErrorKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void Steps_RunAsArgumentVectors_WithStandardInput()
    {
        var run = Channel().Run(_target, [], _ => new RemoteBatch
        {
            Operations =
            [
                new RemoteCommandOperation(new ToolCommand("ip", ["-batch", "-"], "address show dev lo\n")),
            ],
        });

        var result = Assert.Single(run.Results);
        Assert.True(result.Succeeded, result.Output.StandardError);
        Assert.Contains("127.0.0.1", result.Output.StandardOutput);
        Assert.True(run.Completed);
    }

    [Fact]
    public void AnArgumentIsNeverInterpretedByTheShell()
    {
        var marker = Path.Combine(_dir, "pwned");
        var run = Channel().Run(_target, [], _ => new RemoteBatch
        {
            Operations =
            [
                new RemoteCommandOperation(ToolCommand.Create("ip", "address", "show", "dev", $"lo;touch {marker}")),
            ],
        });

        var result = Assert.Single(run.Results);
        Assert.False(result.Succeeded);
        Assert.Contains("does not exist", result.Output.StandardError);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void AFailedStep_StopsTheBatch()
    {
        var later = Path.Combine(_dir, "later");
        var run = Channel().Run(_target, [], _ => new RemoteBatch
        {
            Operations =
            [
                new RemoteCommandOperation(ToolCommand.Create("ip", "address", "show", "dev", "nosuch0")),
                new RemoteFileWrite(later, "x\n"),
            ],
        });

        var failed = Assert.Single(run.Results);
        Assert.Same(failed, run.Failed);
        Assert.False(run.Completed);
        Assert.False(File.Exists(later));
    }

    [Fact]
    public void Writes_AreExact_NewFilesGetTheMode_ExistingOnesKeepTheirs_AndSymlinksStay()
    {
        var fresh = Path.Combine(_dir, "fresh");
        var existing = Path.Combine(_dir, "existing");
        File.WriteAllText(existing, "old\n");
        File.SetUnixFileMode(existing, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var target = Path.Combine(_dir, "target");
        File.WriteAllText(target, "old\n");
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, target);
        var content = "#!/bin/sh\nline with 'quotes' and $(not run)\nlast line without newline";
        var notExecutable = Path.Combine(_dir, "rc.local");
        File.WriteAllText(notExecutable, "old\n");
        File.SetUnixFileMode(notExecutable, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var run = Channel().Run(_target, [], _ => new RemoteBatch
        {
            Operations =
            [
                new RemoteFileWrite(fresh, content, "0755"),
                new RemoteFileWrite(existing, "new\n", "0755"),
            new RemoteFileWrite(notExecutable, "#!/bin/sh\n") { EnsureExecutable = true },
                new RemoteFileWrite(link, "via link\n"),
            ],
        });

        Assert.True(run.Completed, run.Failed?.Output.StandardError);
        Assert.Equal(content, File.ReadAllText(fresh));
        Assert.Equal(Convert.ToInt32("755", 8), (int)File.GetUnixFileMode(fresh));
        Assert.Equal("new\n", File.ReadAllText(existing));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(existing));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute, File.GetUnixFileMode(notExecutable));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("via link\n", File.ReadAllText(target));
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => Path.GetFileName(f).StartsWith(".lvsdirect.", StringComparison.Ordinal));
    }

    [Fact]
    public void Then_GetsTheStateReadAgainAfterTheOperations_UnderTheSameSession()
    {
        var file = Path.Combine(_dir, "after");
        HostState? seen = null;

        var run = Channel().Run(_target, [], _ => new RemoteBatch
        {
            Operations = [new RemoteCommandOperation(ToolCommand.Create("ip", "-V"))],
            Then = state =>
            {
                seen = state;
                return [new RemoteFileWrite(file, $"{state.Interfaces.Count}\n")];
            },
        });

        Assert.True(run.Completed, run.Failed?.Output.StandardError);
        Assert.NotNull(seen);
        Assert.Same(seen, run.After);
        Assert.Equal(2, run.Results.Count);
        Assert.Equal($"{seen!.Interfaces.Count}\n", File.ReadAllText(file));
    }

    [Fact]
    public void Then_IsNotAsked_WhenAnOperationFailed()
    {
        var asked = false;

        var run = Channel().Run(_target, [], _ => new RemoteBatch
        {
            Operations = [new RemoteCommandOperation(ToolCommand.Create("ip", "address", "show", "dev", "nosuch0"))],
            Then = _ =>
            {
                asked = true;
                return [];
            },
        });

        Assert.False(asked);
        Assert.NotNull(run.Failed);
    }

    [Fact]
    public void TheScript_NeverRunsAnOperationWhoseLinesDidNotAllArrive()
    {
        var file = Path.Combine(_dir, "truncated");
        var psi = LocalShell(_target);
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        using var p = Process.Start(psi)!;
        p.StandardInput.Write($"LVSDIRECT 1 abc\nLOCKDIR {_dir}\nREADY\nWRITE 0644 3\n{file}\neAo=\n");
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();

        Assert.Contains("==abc STATE-END", output);
        Assert.DoesNotContain("==abc OUT 0", output);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void APlanThatThrows_SendsNothing()
    {
        var file = Path.Combine(_dir, "never");

        var ex = Assert.Throws<LvsException>(() => Channel().Run(_target, [], _ =>
            throw new LvsException(LvsErrorKind.UnknownInterface, "no such interface")));

        Assert.Equal(LvsErrorKind.UnknownInterface, ex.Kind);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void TheScript_RefusesAProgramOffItsList()
    {
        var psi = LocalShell(_target);
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        using var p = Process.Start(psi)!;
        p.StandardInput.Write($"LVSDIRECT 1 abc\nLOCKDIR {_dir}\nREADY\nSTEP 1 0\nrm\n{_dir}\n");
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();

        Assert.Contains("==abc REFUSED 0 program not allowed", output);
        Assert.True(Directory.Exists(_dir));
    }

    [Fact]
    public void Rendering_RefusesProgramsOffTheListAndLineBreaks()
    {
        var rm = Assert.Throws<LvsException>(() => AgentlessChannel.RenderPayload([new RemoteCommandOperation(ToolCommand.Create("rm", "-rf", "/"))]));
        Assert.Equal(LvsErrorKind.InvalidArgument, rm.Kind);
        var newline = Assert.Throws<LvsException>(() => AgentlessChannel.RenderPayload([new RemoteCommandOperation(ToolCommand.Create("ip", "a\nSTEP 0 0"))]));
        Assert.Equal(LvsErrorKind.InvalidArgument, newline.Kind);
    }

    [Fact]
    public async Task TheServerLock_IsTheModulesLock_AndARunWaitsForIt()
    {
        // The same folder HostScope computes for this namespace, with _dir standing in for /run/lvsdirect.
        var folder = HostScope.EnsurePrivateDirectory(HostScope.Current().RuntimeDirectoryUnder(_dir), _dir);
        var held = HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, Path.Combine(folder, HostScope.LockFileName));
        var run = Task.Run(() => Channel().Run(_target, [], _ => null));

        Assert.False(await Task.WhenAny(run, Task.Delay(700)) == run, "the agentless run read the state while another run held the host lock");
        held.Dispose();
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))) == run, "the agentless run did not end within 30 s of the lock's release");
        Assert.NotNull((await run).Snapshot);
    }

    [Fact]
    public void AnSshThatEndsAtOnce_IsTheConnectionError_NotABrokenPipe()
    {
        var refused = new AgentlessChannel(_ =>
        {
            var psi = new ProcessStartInfo("/bin/sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("echo 'ssh: connect to host rs1.example port 22: Connection refused' >&2; exit 255");
            return psi;
        });

        // Many files make a header larger than a pipe buffer: writing it into the exited process fails.
        var files = Enumerable.Range(0, 2000).Select(i => $"/nonexistent/{i:D6}/some/long/path/to/a/file").ToList();
        for (var i = 0; i < 5; i++)
        {
            var ex = Assert.Throws<LvsException>(() => refused.Run(_target, files, _ => null));
            Assert.Equal(LvsErrorKind.HostUnreachable, ex.Kind);
        }
    }

    [Theory]
    [InlineData("Host key verification failed.", LvsErrorKind.HostKeyUnknown)]
    [InlineData("root@192.0.2.11: Permission denied (publickey).", LvsErrorKind.AuthenticationFailed)]
    [InlineData("ssh: connect to host 192.0.2.11 port 2222: Connection refused", LvsErrorKind.HostUnreachable)]
    [InlineData("ssh: Could not resolve hostname nosuch: Name or service not known", LvsErrorKind.HostUnreachable)]
    [InlineData("something else", LvsErrorKind.RemoteFailed)]
    public void SshFailures_MapToStableKinds(string stderr, LvsErrorKind kind)
    {
        var ex = AgentlessChannel.ConnectionError(_target, stderr);

        Assert.Equal(kind, ex.Kind);
        Assert.Contains("rs1.example", ex.Message);
        Assert.Equal("rs1.example", ex.Target);
    }

    [Theory]
    [InlineData("-oProxyCommand=touch /tmp/x")]
    [InlineData("host;reboot")]
    [InlineData("a b")]
    [InlineData("")]
    public void Targets_RejectWhatSshWouldReadAsAnOptionOrACommand(string host)
    {
        var ex = Assert.Throws<LvsException>(() => new SshTarget(host));
        Assert.Equal(LvsErrorKind.InvalidArgument, ex.Kind);
    }

    [Fact]
    public void Targets_PassOnlyWhatIsSet_AndTheHostAfterDoubleDash()
    {
        var key = Path.Combine(_dir, "id_ed25519");
        File.WriteAllText(key, "k");

        var args = new SshTarget("192.0.2.11", "root", 2222, key).SshArguments();

        var dash = args.ToList().IndexOf("--");
        Assert.Equal(["192.0.2.11", AgentlessScript.RemoteCommand], args.Skip(dash + 1));
        Assert.Contains("BatchMode=yes", args);
        Assert.Equal("2222", args[args.ToList().IndexOf("-p") + 1]);
        Assert.Equal("root", args[args.ToList().IndexOf("-l") + 1]);
        Assert.Equal(key, args[args.ToList().IndexOf("-i") + 1]);
        Assert.DoesNotContain("-p", new SshTarget("rs1").SshArguments());
        Assert.Throws<LvsException>(() => new SshTarget("rs1", "-oX"));
        Assert.Throws<LvsException>(() => new SshTarget("rs1", port: 70000));
    }
}

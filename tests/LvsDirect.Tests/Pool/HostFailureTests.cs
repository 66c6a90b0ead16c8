using System.Management.Automation;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Remoting;
using Xunit;

namespace LvsDirect.Tests.Pool;

/// <summary>
/// The one HostFailure mapping: the same failure seen by the agentless transport (an exception on the worker)
/// and by PowerShell remoting (a session that would not open, an error record the remote cmdlet wrote, the
/// ErrorId of its result) gives the same id and the same category.
/// </summary>
public class HostFailureTests
{
    private static readonly SshTarget Rs3 = new("rs3", "root");

    public static TheoryData<string, LvsErrorKind> SshSaid => new()
    {
        { "ssh: connect to host rs3 port 22: Connection refused", LvsErrorKind.HostUnreachable },
        { "ssh: Could not resolve hostname rs3: Name or service not known", LvsErrorKind.HostUnreachable },
        { "root@rs3: Permission denied (publickey).", LvsErrorKind.AuthenticationFailed },
        { "No ED25519 host key is known for rs3 and you have requested strict checking.\r\nHost key verification failed.", LvsErrorKind.HostKeyUnknown },
    };

    [Theory]
    [MemberData(nameof(SshSaid))]
    public void ASessionThatWouldNotOpen_HasTheSameIdOverSshAndRemoting(string stderr, LvsErrorKind expected)
    {
        var agentless = HostFailure.FromException("rs3", AgentlessChannel.ConnectionError(Rs3, stderr));
        var remoting = HostFailure.FromResult(new HostRunResult { ComputerName = "rs3", Failure = new InvalidOperationException($"The SSH client session has ended with error message: {stderr}") });

        Assert.Equal(expected, agentless.Kind);
        Assert.Equal(expected, remoting!.Kind);
        Assert.Equal(agentless.Category, remoting.Category);
    }

    [Fact]
    public void ARemotingHostWhosePortIsClosed_IsHostUnreachable()
    {
        // What RemoteRunner's own reachability check throws before ssh is started.
        var run = new HostRunResult { ComputerName = "rs3", Failure = new IOException("Cannot reach rs3: connecting to 192.0.2.13 port 22 failed: Connection refused.") };

        var failure = HostFailure.FromResult(run)!;

        Assert.Equal(LvsErrorKind.HostUnreachable, failure.Kind);
        Assert.Equal(ErrorCategory.ConnectionError, failure.Category);
    }

    [Fact]
    public void ANotConnectedFailureSshDidNotExplain_IsStillHostUnreachable()
    {
        var run = new HostRunResult { ComputerName = "rs3", Failure = new TimeoutException("Cannot reach rs3: no answer from 192.0.2.13 port 22 within 30 s.") };

        Assert.Equal(LvsErrorKind.HostUnreachable, HostFailure.FromResult(run)!.Kind);
    }

    [Fact]
    public void ARefusedVip_HasItsPlannerIdOnEveryRoute()
    {
        var refusal = new LvsException(LvsErrorKind.HostAddress, "203.0.113.5 is an address of this host, not a VIP.", "203.0.113.5");
        var agentless = HostFailure.FromException("rs1", refusal);
        var remoteRun = new HostRunResult { ComputerName = "rs1", Connected = true };
        remoteRun.Errors.Add(new ErrorRecord(refusal, "HostAddress,LvsDirect.Commands.SetLvsRealServerCommand", ErrorCategory.InvalidArgument, "203.0.113.5"));
        var remoteError = HostFailure.FromResult(remoteRun)!;
        var remoteResult = HostFailure.FromId("rs1", "HostAddress", refusal.Message);
        var remoteTerminating = HostFailure.FromResult(new HostRunResult
        {
            ComputerName = "rs1",
            Connected = true,
            Failure = new RuntimeException("refused", refusal, new ErrorRecord(refusal, "HostAddress,LvsDirect.Commands.SetLvsRealServerCommand", ErrorCategory.InvalidArgument, null)),
        })!;

        foreach (var f in new[] { agentless, remoteError, remoteResult, remoteTerminating })
        {
            Assert.Equal(LvsErrorKind.HostAddress, f.Kind);
            Assert.Equal(ErrorCategory.InvalidArgument, f.Category);
        }
    }

    [Theory]
    [InlineData("NamedParameterNotFound,LvsDirect.Commands.SetLvsRealServerCommand")]
    [InlineData("RemoteCommandFailed")]
    [InlineData("3")]
    [InlineData("")]
    public void AnErrorWithoutAnLvsDirectId_IsRemoteFailed(string fullyQualifiedErrorId)
    {
        var run = new HostRunResult { ComputerName = "rs2", Connected = true };
        run.Errors.Add(new ErrorRecord(new InvalidOperationException("broke there"), fullyQualifiedErrorId, ErrorCategory.InvalidArgument, null));

        var failure = HostFailure.FromResult(run)!;

        Assert.Equal(LvsErrorKind.RemoteFailed, failure.Kind);
        Assert.Equal(ErrorCategory.ProtocolError, failure.Category);
        Assert.Equal("broke there", failure.Message);
    }

    [Fact]
    public void AnExceptionWithoutAnId_IsRemoteFailedOnBothTransports()
    {
        var agentless = HostFailure.FromException("rs2", new InvalidDataException("the session ended early"));
        var remoting = HostFailure.FromResult(new HostRunResult { ComputerName = "rs2", Connected = true, Failure = new InvalidOperationException("The host answered nothing.") })!;

        Assert.Equal(LvsErrorKind.RemoteFailed, agentless.Kind);
        Assert.Equal(LvsErrorKind.RemoteFailed, remoting.Kind);
    }

    [Fact]
    public void AHostThatDidNotFail_HasNoFailure()
    {
        var run = new HostRunResult { ComputerName = "rs2", Connected = true };
        run.Output.Add(new PSObject(1));

        Assert.Null(HostFailure.FromResult(run));
    }

    [Fact]
    public void ToErrorRecord_CarriesTheIdCategoryAndHost()
    {
        var cause = new IOException("refused");
        var record = new HostFailure("rs3", LvsErrorKind.HostUnreachable, "Cannot reach rs3.").ToErrorRecord(cause);

        Assert.Equal("HostUnreachable", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, record.CategoryInfo.Category);
        Assert.Equal("rs3", record.TargetObject);
        var lvs = Assert.IsType<LvsException>(record.Exception);
        Assert.Equal(LvsErrorKind.HostUnreachable, lvs.Kind);
        Assert.Equal("[rs3] Cannot reach rs3.", lvs.Message);
        Assert.Same(cause, lvs.InnerException);
    }

    [Fact]
    public void EveryErrorKind_HasACategory()
    {
        foreach (var kind in Enum.GetValues<LvsErrorKind>())
        {
            Assert.NotEqual(ErrorCategory.NotSpecified, LvsCmdlet.CategoryFor(kind));
        }
    }
}

using LvsDirect.Core.Host;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

[Collection(CmdletCollection.Name)]
public sealed class HostScopeOnceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-scope-").FullName;

    public void Dispose()
    {
        LvsCmdlet.IdentifyScope = HostScope.Current;
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void ACommand_IdentifiesItsNetworkNamespaceOnce_ForTheLockTheOwnershipRecordAndTheSysctlRecord()
    {
        var calls = 0;
        LvsCmdlet.IdentifyScope = () =>
        {
            Interlocked.Increment(ref calls);
            return HostScope.Current();
        };
        var runner = FakeRunner.Host().On("sysctl", "net.ipv4.conf.all.arp_ignore = 0\nnet.ipv4.conf.all.arp_announce = 0\nnet.ipv4.conf.eth0.arp_ignore = 0\nnet.ipv4.conf.eth0.arp_announce = 0\n");
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke($"New-LvsVip -Address 203.0.113.100 -Method Sysctl -SysctlStatePath '{Path.Combine(_dir, "s.json")}'");

        Assert.Empty(errors);
        Assert.Single(output);
        Assert.Equal(1, calls);
    }
}

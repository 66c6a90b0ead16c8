using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Diagnostics;

public class SystemdUnitPersistenceTests
{
    private static readonly RcVip Vip = new(IPAddress.Parse("203.0.113.100"), 32, "eth0", null, null, IPAddress.Parse("192.0.2.11"));

    private static string Unit() => string.Join('\n', SystemdUnit.Render(new ArptablesDialect(ArptablesFlavor.Nft), [Vip]));

    [Fact]
    public void TheUnitIsTheBootFile_WhenRcLocalHasNoBlock()
    {
        var rc = PersistedConfig.Parse("/etc/rc.local", "#!/bin/sh\nexit 0\n", true, null, null);

        var p = PersistedConfig.WithSystemdUnit(rc, SystemdUnit.DefaultPath, Unit());

        Assert.True(p.HasBlock);
        Assert.Equal(SystemdUnit.DefaultPath, p.RcLocalPath);
        var address = Assert.Single(p.RcAddresses);
        Assert.Equal(Vip.Address, address.Address);
        Assert.Equal("eth0", address.InterfaceName);
        Assert.Equal(2, p.RcRules!.Rules.Count);
    }

    [Fact]
    public void AnRcLocalBlockWins_AndAUnitLvsDirectDidNotWriteIsIgnored()
    {
        var block = string.Join('\n', RcLocal.Merge(null, RcLocal.RenderBlock(new ArptablesDialect(ArptablesFlavor.Nft), [Vip])));
        var withBlock = PersistedConfig.Parse("/etc/rc.local", block, true, null, null);
        var without = PersistedConfig.Parse("/etc/rc.local", null, false, null, null);

        Assert.Same(withBlock, PersistedConfig.WithSystemdUnit(withBlock, SystemdUnit.DefaultPath, Unit()));
        Assert.Same(without, PersistedConfig.WithSystemdUnit(without, SystemdUnit.DefaultPath, "[Service]\nExecStart=/usr/sbin/ip addr add 203.0.113.100/32 dev eth0\n"));
        Assert.Same(without, PersistedConfig.WithSystemdUnit(without, SystemdUnit.DefaultPath, null));
    }
}

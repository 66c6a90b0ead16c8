using LvsDirect.Core.Tools;
using Xunit;

namespace LvsDirect.Tests.Tools;

/// <summary>The cold-start preparation runs the real planning path on its made-up host, without starting anything.</summary>
public sealed class WarmupTests
{
    [Fact]
    public void Run_PlansTheMadeUpVip_TheWayNewLvsVipWould()
    {
        var commands = Warmup.Run();

        // 192.0.2.200 is there with its rules and is LvsDirect's: only .201 is planned, rules before the address.
        Assert.Equal(
            ["arptables -A LVSDIRECT-IN -d 192.0.2.201 -j DROP",
             "arptables -A LVSDIRECT-OUT -s 192.0.2.201 -j mangle --mangle-ip-s 192.0.2.11",
             "ip -batch - <<'EOF'\naddress add 192.0.2.201/32 dev eth0\nEOF"],
            commands);
    }
}

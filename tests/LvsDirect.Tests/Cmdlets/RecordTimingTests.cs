using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

/// <summary>
/// When the ownership record is written against the steps of a run: a run that only adds writes it while its
/// addresses go in, a run that removes only once they are gone, and a run that stops leaves the record of what is there.
/// </summary>
[Collection(CmdletCollection.Name)]
public sealed class RecordTimingTests
{
    private const string Vip7 = ",{\"family\":\"inet\",\"local\":\"203.0.113.7\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";

    private static ToolResult Ok(ToolCommand c) => new(c, 0, string.Empty, string.Empty, TimeSpan.FromMilliseconds(1));

    private static IReadOnlyList<string> Recorded(string path) =>
        File.Exists(path) ? VipRecord.Load(path).Select(v => v.Address.ToString()).ToList() : [];

    [Fact]
    public void NewLvsVip_WritesItsRecordWhileItsAddressesGoIn()
    {
        var runner = FakeRunner.Host(extraAddrInfo: Vip7);
        using var host = new CmdletHost(runner, managed: ["203.0.113.7"]);
        IReadOnlyList<string> seen = [];
        runner.When("ip -batch -", c =>
        {
            // The record is written beside this step: wait for it here, where a record written after the step never comes.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((seen = Recorded(host.RecordPath)).Count < 2 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }

            return Ok(c);
        });

        var (_, errors, _) = host.Invoke("New-LvsVip -Address 203.0.113.100");

        Assert.Empty(errors);
        Assert.Equal(["203.0.113.7", "203.0.113.100"], seen);
        Assert.Equal(["203.0.113.7", "203.0.113.100"], Recorded(host.RecordPath));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NewLvsVip_WhoseAddressesFail_LeavesTheRecordOfWhatIsThere(bool recordBefore)
    {
        var runner = FakeRunner.Host(extraAddrInfo: recordBefore ? Vip7 : string.Empty)
            .On("ip -batch -", string.Empty, 2, "RTNETLINK answers: Operation not permitted\n");
        using var host = new CmdletHost(runner, managed: recordBefore ? ["203.0.113.7"] : null);

        var failure = host.InvokeFailing("New-LvsVip -Address 203.0.113.100");

        Assert.Contains("Operation not permitted", failure.ToString(), StringComparison.Ordinal);
        // The address never went in (the host read afterwards lacks it): the record written beside the step is taken back.
        Assert.Equal(recordBefore ? ["203.0.113.7"] : [], Recorded(host.RecordPath));
        Assert.Equal(recordBefore, File.Exists(host.RecordPath));
    }

    [Fact]
    public void NewLvsVip_WhatIf_WritesNoRecord()
    {
        var runner = FakeRunner.Host(extraAddrInfo: Vip7);
        using var host = new CmdletHost(runner, managed: ["203.0.113.7"]);

        host.Invoke("New-LvsVip -Address 203.0.113.100 -WhatIf");

        Assert.DoesNotContain(runner.Changes, c => c.Program == "ip");
        Assert.Equal(["203.0.113.7"], Recorded(host.RecordPath));
    }

    [Fact]
    public void RemoveLvsVip_ForgetsTheVipOnlyOnceItsAddressIsGone()
    {
        var runner = FakeRunner.Host(extraAddrInfo: Vip7);
        using var host = new CmdletHost(runner, managed: ["203.0.113.7", "203.0.113.8"]);
        IReadOnlyList<string> seen = [];
        runner.When("ip -batch -", c =>
        {
            Thread.Sleep(200);
            seen = Recorded(host.RecordPath);
            return Ok(c);
        });

        var (_, errors, _) = host.Invoke("Remove-LvsVip -Address 203.0.113.7");

        Assert.Empty(errors);
        Assert.Equal(["203.0.113.7", "203.0.113.8"], seen);
        Assert.Equal(["203.0.113.8"], Recorded(host.RecordPath));
    }
}

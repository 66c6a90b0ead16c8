using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

/// <summary>Objects validated as they arrive (in ProcessRecord) are refused with the same stable ids as parameters.</summary>
[Collection(CmdletCollection.Name)]
public class PipedInputTests
{
    [Theory]
    [InlineData("[pscustomobject]@{ Address = '203.0.113.300'; Port = 80; RealServers = @([pscustomobject]@{ Address = '192.0.2.11'; Port = 80 }) } | Set-LvsRealServer -WhatIf", "InvalidAddress")]
    [InlineData("[pscustomobject]@{ Address = '203.0.113.10'; Port = 80; RealServers = @([pscustomobject]@{ Address = '192.0.2.011'; Port = 80 }) } | Set-LvsRealServer -WhatIf", "InvalidAddress")]
    [InlineData("[pscustomobject]@{ VirtualIP = '203.0.113.300'; Port = 80 } | Test-LvsRealServer", "InvalidAddress")]
    public void APipedObjectThatCannotBeRead_IsRefusedWithAStableId_AndChangesNothing(string script, string id)
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing(script);

        Assert.StartsWith(id + ",", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
    }
}

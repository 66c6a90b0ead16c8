using System.Net;
using LvsDirect.Core.Model;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

[Collection(CmdletCollection.Name)]
public sealed class DiagnosticsCommandTests : IDisposable
{
    private const string Arping = "arping -b -c 3 -w 3 -I eth0 203.0.113.100";
    private const string TwoResponders =
        "ARPING 203.0.113.100 from 192.0.2.50 eth0\nUnicast reply from 203.0.113.100 [02:00:C0:00:02:01]  0.6ms\nUnicast reply from 203.0.113.100 [02:00:C0:00:02:0B]  0.7ms\nSent 3 probes (3 broadcast(s))\nReceived 2 response(s)\n";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lvs-diag-");

    private string Files => $"-RcLocalPath '{_folder.FullName}/rc.local' -ArpRulesPath '{_folder.FullName}/arptables'";

    public void Dispose() => _folder.Delete(recursive: true);

    private static FakeRunner Client(string arpingOutput, int exitCode = 0) =>
        new FakeRunner()
            .On("ip -j route get 203.0.113.100", "[{\"dst\":\"203.0.113.100\",\"gateway\":\"192.0.2.1\",\"dev\":\"eth0\",\"flags\":[]}]\n")
            .On(Arping, arpingOutput, exitCode)
            .On("ip -j neigh show dev eth0", "[{\"dst\":\"192.0.2.11\",\"dev\":\"eth0\",\"lladdr\":\"02:00:c0:00:02:0b\",\"state\":[\"REACHABLE\"]}]\n");

    private static FakeRunner RealServer() =>
        FakeRunner.Host(
                Listing.FromSave("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -d 203.0.113.100 -j DROP\n-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11\n"),
                extraAddrInfo: ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}")
            .On("ss -H -l -n -t -u", "tcp LISTEN 0 5 0.0.0.0:80 0.0.0.0:*\n");

    [Fact]
    public void TestLvsArp_TwoResponders_BothFail_WithTheOwnerFromTheNeighbourTable_EvenWhenArpingExits1()
    {
        var runner = Client(TwoResponders, exitCode: 1);
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("Test-LvsArp -VirtualIP 203.0.113.100");

        Assert.Empty(errors);
        var responders = output.Select(o => Assert.IsType<ArpResponder>(o.BaseObject)).ToList();
        Assert.Equal(["02:00:c0:00:02:01", "02:00:c0:00:02:0b"], responders.Select(r => r.MacAddress));
        Assert.All(responders, r => Assert.Equal(CheckStatus.Fail, r.Status));
        Assert.All(responders, r => Assert.Equal(2, r.ResponderCount));
        Assert.Equal([IPAddress.Parse("192.0.2.11")], responders[1].OwnerAddress);
        Assert.Empty(responders[0].OwnerAddress);
        Assert.Contains(runner.Commands, c => c.ToDisplayString() == Arping);
        Assert.False(Assert.IsType<bool>(Assert.Single(host.Invoke("Test-LvsArp -VirtualIP 203.0.113.100 -Quiet").Output).BaseObject));
    }

    [Fact]
    public void TestLvsArp_WithDirectorAddress_TheDirectorPasses_AndTheOtherFailsNamedByItsAddress()
    {
        var runner = Client(TwoResponders, exitCode: 1)
            .On("arping -b -c 1 -w 1 -I eth0 192.0.2.1", "Unicast reply from 192.0.2.1 [02:00:C0:00:02:01]  0.5ms\n");
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("Test-LvsArp -VirtualIP 203.0.113.100 -DirectorAddress 192.0.2.1 -WarningVariable w; $w");

        Assert.Empty(errors);
        var responders = output.Select(o => o.BaseObject).OfType<ArpResponder>().ToList();
        var director = Assert.Single(responders, r => r.MacAddress == "02:00:c0:00:02:01");
        Assert.Equal(CheckStatus.Pass, director.Status);
        Assert.True(director.IsDirector);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], director.OwnerAddress);
        Assert.Null(director.Remediation);
        var culprit = Assert.Single(responders, r => r.MacAddress == "02:00:c0:00:02:0b");
        Assert.Equal(CheckStatus.Fail, culprit.Status);
        Assert.False(culprit.IsDirector);
        Assert.StartsWith("192.0.2.11 (02:00:c0:00:02:0b) answers ARP for 203.0.113.100 but is not the director", culprit.Detail);
        Assert.Equal("On 192.0.2.11 (02:00:c0:00:02:0b): Set-ArpSuppression -VirtualIP 203.0.113.100 (Test-LvsRealServer there shows what else is missing).", culprit.Remediation);
        Assert.Contains(output, o => o.BaseObject is System.Management.Automation.WarningRecord wr && wr.Message.Contains("192.0.2.11 (02:00:c0:00:02:0b) take its traffic"));
        Assert.Single(runner.Commands, c => c.ToDisplayString() == "arping -b -c 1 -w 1 -I eth0 192.0.2.1");
        Assert.False(Assert.IsType<bool>(Assert.Single(host.Invoke("Test-LvsArp -VirtualIP 203.0.113.100 -DirectorAddress 192.0.2.1 -Quiet").Output).BaseObject));
    }

    [Theory]
    [InlineData("02:00:c0:00:02:01", true)]
    [InlineData("02-00-C0-00-02-0B", false)]
    public void TestLvsArp_WithDirectorMacAddress_OnlyTheDirectorsOneReplyIsQuietTrue(string directorMac, bool quiet)
    {
        var one = "Unicast reply from 203.0.113.100 [02:00:c0:00:02:01]  0.6ms\n";
        var runner = Client(one);
        using var host = new CmdletHost(runner);

        var responder = Assert.IsType<ArpResponder>(Assert.Single(host.Invoke($"Test-LvsArp 203.0.113.100 -DirectorMacAddress {directorMac}").Output).BaseObject);

        Assert.Equal(quiet ? CheckStatus.Pass : CheckStatus.Fail, responder.Status);
        Assert.Equal(quiet, responder.IsDirector);
        Assert.Equal(quiet, Assert.IsType<bool>(Assert.Single(host.Invoke($"Test-LvsArp 203.0.113.100 -DirectorMacAddress {directorMac} -Quiet").Output).BaseObject));
        if (!quiet)
        {
            Assert.Contains("The director (02:00:c0:00:02:0b) did not answer at all", responder.Detail);
            Assert.Contains("the host with MAC 02:00:c0:00:02:01 (its address is not in this host's neighbour table)", responder.Detail);
        }

        Assert.DoesNotContain(runner.Commands, c => c.ToDisplayString().Contains("-c 1"));
    }

    [Theory]
    [InlineData("Test-LvsArp 203.0.113.100 -DirectorMacAddress 02:00:c0:00:02", "InvalidArgument", "not a MAC address")]
    [InlineData("Test-LvsArp 203.0.113.100 -DirectorAddress 203.0.113.100", "InvalidArgument", "is a VIP")]
    [InlineData("Test-LvsArp 203.0.113.100 -DirectorAddress 192.0.2.300", "InvalidAddress", "director address")]
    public void TestLvsArp_BadDirector_IsRefusedBeforeAnyProbe(string script, string errorId, string message)
    {
        var runner = Client(TwoResponders);
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing(script);

        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Contains(message, error.Exception.Message);
        Assert.DoesNotContain(runner.Commands, c => c.Program == "arping");
    }

    [Fact]
    public void TestLvsArp_ADirectorThatDoesNotAnswer_IsNoArpReply_NamingDirectorMacAddress()
    {
        using var host = new CmdletHost(Client(TwoResponders).On("arping -b -c 1 -w 1 -I eth0 192.0.2.1", "Received 0 response(s)\n", 1));

        var error = host.InvokeFailing("Test-LvsArp 203.0.113.100 -DirectorAddress 192.0.2.1");

        Assert.StartsWith("NoArpReply,", error.FullyQualifiedErrorId);
        Assert.Contains("-DirectorMacAddress", error.Exception.Message);
    }

    [Fact]
    public void TestLvsArp_OneResponder_Passes_AndQuietIsTrue()
    {
        var one = "Unicast reply from 203.0.113.100 [02:00:c0:00:02:01]  0.6ms\n";
        using var host = new CmdletHost(Client(one));

        var responder = Assert.IsType<ArpResponder>(Assert.Single(host.Invoke("Test-LvsArp 203.0.113.100").Output).BaseObject);

        Assert.Equal(CheckStatus.Pass, responder.Status);
        Assert.True(Assert.IsType<bool>(Assert.Single(host.Invoke("Test-LvsArp 203.0.113.100 -Quiet").Output).BaseObject));
    }

    [Fact]
    public void TestLvsArp_NoReply_IsANonTerminatingNoArpReplyError()
    {
        using var host = new CmdletHost(Client("Sent 3 probes (3 broadcast(s))\nReceived 0 response(s)\n", exitCode: 1));

        var (output, errors, _) = host.Invoke("Test-LvsArp -VirtualIP 203.0.113.100");

        Assert.Empty(output);
        var error = Assert.Single(errors);
        Assert.StartsWith("NoArpReply,", error.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
    }

    [Fact]
    public void TestLvsArp_ArpingError_IsCommandFailed()
    {
        using var host = new CmdletHost(Client(string.Empty, exitCode: 2).On(Arping, string.Empty, 2, "arping: Device eth0 not available."));

        var error = host.InvokeFailing("Test-LvsArp -VirtualIP 203.0.113.100");

        Assert.StartsWith("CommandFailed,", error.FullyQualifiedErrorId);
        Assert.Contains("not available", error.Exception.Message);
    }

    [Fact]
    public void TestLvsArp_ALocalVip_IsRefused()
    {
        using var host = new CmdletHost(new FakeRunner().On("ip -j route get 203.0.113.100", "[{\"type\":\"local\",\"dst\":\"203.0.113.100\",\"dev\":\"lo\"}]\n"));

        Assert.StartsWith("InvalidArgument,", host.InvokeFailing("Test-LvsArp -VirtualIP 203.0.113.100").FullyQualifiedErrorId);
    }

    [Fact]
    public void TestLvsRealServer_MalformedDirector_IsInvalidAddress_BeforeAnythingRuns()
    {
        var runner = RealServer();
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing($"Test-LvsRealServer -DirectorAddress 192.0.2 {Files}");

        Assert.StartsWith("InvalidAddress,", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public void TestLvsRealServer_PipedServices_OnlyThoseNamingThisHost_WithTheirPorts()
    {
        using var host = new CmdletHost(RealServer());
        var services = new[]
        {
            Service("203.0.113.100", 80, "192.0.2.11", "192.0.2.12"),
            Service("203.0.113.101", 443, "192.0.2.99"),
        };

        var results = InvokeWithServices(host, services);

        Assert.DoesNotContain(results, r => r.Target.StartsWith("203.0.113.101", StringComparison.Ordinal));
        var listener = Assert.Single(results, r => r.Check == "Listener");
        Assert.Equal("203.0.113.100:80/tcp", listener.Target);
        Assert.Equal(CheckStatus.Pass, listener.Status);
        Assert.Equal(CheckStatus.Pass, Assert.Single(results, r => r.Check == "ArpSuppression").Status);
    }

    [Fact]
    public void TestLvsRealServer_PipedServices_FromAnotherHost_OrWithPlainAddresses_BindToo()
    {
        using var host = new CmdletHost(RealServer());
        var service = Service("203.0.113.100", 80, "192.0.2.12", "192.0.2.11");

        // What Invoke-Command brings back from a remote Import-LvsConfig: deserialized objects.
        var remote = host.Invoke($"[System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize({service})) | Test-LvsRealServer {Files}");
        var plain = host.Invoke($"[pscustomobject]@{{ Address = '203.0.113.100'; Port = 80; RealServers = '192.0.2.11' }} | Test-LvsRealServer {Files}");
        var other = host.Invoke($"[pscustomobject]@{{ Address = '203.0.113.100'; Port = 80; RealServers = '192.0.2.13' }} | Test-LvsRealServer {Files} -WarningVariable w; $w");

        foreach (var (output, errors, _) in new[] { remote, plain })
        {
            Assert.Empty(errors);
            Assert.Equal("203.0.113.100:80/tcp", Assert.Single(output, o => o.BaseObject is RealServerCheck { Check: "Listener" }).Properties["Target"].Value);
        }

        Assert.Empty(other.Errors);
        Assert.Contains("nothing to check", Assert.Single(other.Output).ToString());
    }

    [Fact]
    public void TestLvsRealServer_Quiet_IsFalseWhenACheckFails_AndWhenNoServiceNamesThisHost()
    {
        using var host = new CmdletHost(RealServer());

        // No rc.local and no saved rules under the temp folder: the live VIP is not persisted.
        var quiet = Assert.Single(host.Invoke($"Test-LvsRealServer -Quiet {Files}").Output);
        Assert.False(Assert.IsType<bool>(quiet.BaseObject));

        var none = Assert.Single(InvokeRaw(host, [Service("203.0.113.101", 443, "192.0.2.99")], "-Quiet"));
        Assert.False(Assert.IsType<bool>(none.BaseObject));
    }

    [Fact]
    public void TestLvsRealServer_NotRoot_WarnsAndReportsSuppressionAsUnknown_WithoutReadingRules()
    {
        var runner = RealServer();
        using var host = new CmdletHost(runner, isRoot: false);

        var (output, errors, _) = host.Invoke($"Test-LvsRealServer -VirtualIP 203.0.113.100 {Files}");

        Assert.Empty(errors);
        var suppression = output.Select(o => (RealServerCheck)o.BaseObject).Single(r => r.Check == "ArpSuppression");
        Assert.Equal(CheckStatus.Warning, suppression.Status);
        Assert.DoesNotContain(runner.Commands, c => c.Program == "arptables");
    }

    /// <summary>An Import-LvsConfig virtual service, written as PowerShell builds it from a hashtable.</summary>
    private static string Service(string vip, int port, params string[] realServers) =>
        $"[LvsDirect.Core.Config.LvsVirtualService]@{{ Address = [ipaddress]'{vip}'; Port = {port}; SourceFile = 'keepalived.conf'; RealServers = [LvsDirect.Core.Config.LvsRealServerEntry[]]@("
        + string.Join(", ", realServers.Select(r => $"[LvsDirect.Core.Config.LvsRealServerEntry]@{{ Address = [ipaddress]'{r}'; Port = {port} }}"))
        + ") }";

    private List<RealServerCheck> InvokeWithServices(CmdletHost host, string[] services) =>
        InvokeRaw(host, services, string.Empty).Select(o => Assert.IsType<RealServerCheck>(o.BaseObject)).ToList();

    private IReadOnlyList<System.Management.Automation.PSObject> InvokeRaw(CmdletHost host, string[] services, string extra)
    {
        var (output, errors, _) = host.Invoke($"@({string.Join(", ", services)}) | Test-LvsRealServer {Files} {extra}");
        Assert.Empty(errors);
        return output;
    }
}

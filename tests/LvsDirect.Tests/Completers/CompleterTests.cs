using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using LvsDirect.Completers;
using LvsDirect.Core.Errors;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Completers;

/// <summary>The completers on a fake host (they read through the cmdlets' runner and root seams), also through PowerShell's own tab completion.</summary>
[Collection(CmdletCollection.Name)]
public class CompleterTests
{
    private const string Vip = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}";
    private const string Secondary = ",{\"family\":\"inet\",\"local\":\"192.0.2.12\",\"prefixlen\":24,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";

    private static readonly string Rules = Listing.FromSave(
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n"
        + "-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n"
        + "-A INPUT -j DROP -d 203.0.113.200\n-A OUTPUT -j mangle -s 203.0.113.200 --mangle-ip-s 192.0.2.11\n");

    private static List<string> Complete(IArgumentCompleter completer, string word) =>
        completer.CompleteArgument("Get-LvsVip", "X", word, null!, new Hashtable()).Select(r => r.CompletionText).ToList();

    [Fact]
    public void InterfaceNameCompleter_OffersTheHostsInterfaces_MatchingTheWord()
    {
        using var host = new CmdletHost(FakeRunner.Host(), isRoot: false);

        Assert.Equal(["lo", "eth0"], Complete(new InterfaceNameCompleter(), string.Empty));
        Assert.Equal(["eth0"], Complete(new InterfaceNameCompleter(), "E"));
    }

    [Fact]
    public void VipAddressCompleter_AsRoot_OffersTheSuppressedAddresses_AndNoOtherAddress()
    {
        using var host = new CmdletHost(FakeRunner.Host(Rules, Vip + Secondary), isRoot: true);

        // 203.0.113.200 is suppressed but on no interface: Remove-ArpSuppression still needs to name it.
        Assert.Equal(["203.0.113.100", "203.0.113.200"], Complete(new VipAddressCompleter(), string.Empty));
        Assert.Equal(["203.0.113.200"], Complete(new VipAddressCompleter(), "203.0.113.2"));
    }

    [Fact]
    public void VipAddressCompleter_WithoutRoot_OffersEveryAddressButTheInterfacesOwn_AndReadsNoArpRules()
    {
        var runner = FakeRunner.Host(Rules, Vip + Secondary);
        using var host = new CmdletHost(runner, isRoot: false);

        Assert.Equal(["203.0.113.100", "192.0.2.12"], Complete(new VipAddressCompleter(), string.Empty));
        Assert.DoesNotContain(runner.Commands, c => c.Program == "arptables");
    }

    [Fact]
    public void Completers_WhenReadingTheHostFails_OfferNothing_AndDoNotThrow()
    {
        var failing = FakeRunner.Host().On("ip -j -batch -", string.Empty, 1, "Cannot open netlink socket");
        using (new CmdletHost(failing, isRoot: true))
        {
            Assert.Empty(Complete(new InterfaceNameCompleter(), "e"));
            Assert.Empty(Complete(new VipAddressCompleter(), "2"));
        }

        var missing = FakeRunner.Host().Throw("arptables -L -n", new LvsException(LvsErrorKind.ProgramNotFound, "arptables is not installed", "arptables"));
        using (new CmdletHost(missing, isRoot: true))
        {
            Assert.Empty(Complete(new VipAddressCompleter(), string.Empty));
        }

        var broken = FakeRunner.Host().Throw("ip -j -batch -", new InvalidOperationException("anything at all"));
        using (new CmdletHost(broken, isRoot: false))
        {
            Assert.Empty(Complete(new InterfaceNameCompleter(), string.Empty));
            Assert.Empty(Complete(new VipAddressCompleter(), string.Empty));
        }
    }

    public static TheoryData<string, string, Type> Attached => new()
    {
        { "Get-LvsVip", "InterfaceName", typeof(InterfaceNameCompleter) },
        { "New-LvsVip", "InterfaceName", typeof(InterfaceNameCompleter) },
        { "Remove-LvsVip", "InterfaceName", typeof(InterfaceNameCompleter) },
        { "Set-ArpSuppression", "InterfaceName", typeof(InterfaceNameCompleter) },
        { "Get-LvsVip", "Address", typeof(VipAddressCompleter) },
        { "Remove-LvsVip", "Address", typeof(VipAddressCompleter) },
        { "Get-ArpSuppression", "VirtualIP", typeof(VipAddressCompleter) },
        { "Remove-ArpSuppression", "VirtualIP", typeof(VipAddressCompleter) },
        { "Set-ArpSuppression", "VirtualIP", typeof(VipAddressCompleter) },
    };

    [Theory]
    [MemberData(nameof(Attached))]
    public void Parameter_CompletesWithItsCompleter(string cmdlet, string parameter, Type completer)
    {
        var type = typeof(LvsCmdlet).Assembly.GetTypes().Single(t => t.GetCustomAttribute<CmdletAttribute>() is { } a && $"{a.VerbName}-{a.NounName}" == cmdlet);
        var attribute = type.GetProperty(parameter)!.GetCustomAttribute<ArgumentCompleterAttribute>();

        Assert.Equal(completer, attribute?.Type);
    }

    [Fact]
    public void EveryInterfaceNameParameter_CompletesInterfaceNames()
    {
        var parameters = typeof(LvsCmdlet).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<CmdletAttribute>() is not null)
            .Select(t => t.GetProperty("InterfaceName"))
            .Where(p => p?.GetCustomAttribute<ParameterAttribute>() is not null)
            .ToList();

        Assert.NotEmpty(parameters);
        Assert.All(parameters, p => Assert.Equal(typeof(InterfaceNameCompleter), p!.GetCustomAttribute<ArgumentCompleterAttribute>()?.Type));
    }

    [Fact]
    public void TabCompletion_OfGetLvsVipInterfaceName_OffersLoopbackFromTheHost()
    {
        using var host = new CmdletHost(FakeRunner.Host(), isRoot: false);
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(typeof(LvsCmdlet).Assembly.Location);
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        const string input = "Get-LvsVip -InterfaceName l";

        var completion = CommandCompletion.CompleteInput(input, input.Length, new Hashtable(), ps);

        Assert.Contains("lo", completion.CompletionMatches.Select(m => m.CompletionText));
        Assert.All(completion.CompletionMatches, m => Assert.StartsWith("l", m.CompletionText, StringComparison.OrdinalIgnoreCase));
    }
}

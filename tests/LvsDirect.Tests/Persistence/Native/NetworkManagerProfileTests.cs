using LvsDirect.Core.Errors;
using LvsDirect.Core.Persistence.Native;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Persistence.Native;

/// <summary>
/// Save-LvsVip -Target NetworkManager for a VIP on eth0: the active connection's profile changed through nmcli,
/// on a fake host whose nmcli answers as NetworkManager 1.42 does (the test plays NM: it rescripts the
/// profile's addresses after each change).
/// </summary>
[Collection(CmdletCollection.Name)]
public sealed class NetworkManagerProfileTests
{
    private const string Uuid = "3b7f6a8e-0d1c-4f3e-9b2a-5c6d7e8f9a0b";
    private const string Active = "nmcli -g UUID,DEVICE,NAME connection show --active";
    private const string Show = "nmcli -g ipv4.addresses,ipv6.addresses connection show " + Uuid;

    // As nmcli -g prints them: ':' in a value escaped, the loopback profile NM 1.42 generates listed too.
    private const string ActiveOutput = Uuid + ":eth0:Wired connection 1\n9d5a2f1e-5b8c-4e0a-8f3d-2c1b0a9e8d7c:lo:lo\n";

    private static string Vip(string address) =>
        $"[pscustomobject]@{{ Address = '{address}'; PrefixLength = 32; InterfaceName = 'eth0'; Method = 'Arptables'; Managed = $true }}";

    private static FakeRunner Nm(string profileAddresses) =>
        FakeRunner.Host().On(Active, ActiveOutput).On(Show, profileAddresses + "\n\n");

    private static List<string> Modifications(FakeRunner runner) =>
        runner.Commands.Where(c => c.Program == "nmcli" && c.Arguments.Contains("modify")).Select(c => c.ToString()).ToList();

    [Fact]
    public void VipOnEth0_IsAddedToTheActiveProfile_AndRecorded_AndASecondSaveChangesNothing()
    {
        var runner = Nm("192.0.2.11/24");
        using var host = new CmdletHost(runner);
        var record = NmProfileRecord.PathBeside(host.RecordPath);

        var first = host.Invoke($"{Vip("203.0.113.10")} | Save-LvsVip -Target NetworkManager -Force");

        Assert.Empty(first.Errors);
        Assert.Equal([$"nmcli connection modify {Uuid} +ipv4.addresses 203.0.113.10/32"], Modifications(runner));
        var result = Assert.Single(first.Output.Select(o => o.BaseObject).OfType<NativeSaveResult>());
        Assert.Equal(NativeFileAction.Written, result.Action);
        Assert.Equal(["203.0.113.10/32"], result.VirtualIP);
        var owned = Assert.Single(NmProfileRecord.Load(record));
        Assert.Equal((Uuid, "eth0"), (owned.Uuid, owned.InterfaceName));
        Assert.Equal(["203.0.113.10/32"], owned.Addresses);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(record));
        Assert.DoesNotContain(runner.Commands, c => c.Program == "nmcli" && c.Arguments.Contains("up"));

        runner.On(Show, "192.0.2.11/24, 203.0.113.10/32\n\n");
        runner.Commands.Clear();
        var recordText = File.ReadAllText(record);
        var second = host.Invoke($"{Vip("203.0.113.10")} | Save-LvsVip -Target NetworkManager -Force");

        Assert.Empty(second.Errors);
        Assert.Empty(Modifications(runner));
        Assert.Equal(NativeFileAction.Unchanged, Assert.Single(second.Output.Select(o => o.BaseObject).OfType<NativeSaveResult>()).Action);
        Assert.Equal(recordText, File.ReadAllText(record));
    }

    [Fact]
    public void AnAddressTheProfileAlreadyHad_IsTheAdmins_AndRemovingTheLastVipRemovesOnlyLvsDirectsAddress()
    {
        var runner = Nm("192.0.2.11/24, 203.0.113.99/32");
        using var host = new CmdletHost(runner, managed: []);
        var record = NmProfileRecord.PathBeside(host.RecordPath);

        var save = host.Invoke($"{Vip("203.0.113.10")}, {Vip("203.0.113.99")} | Save-LvsVip -Target NetworkManager -Force");

        Assert.Empty(save.Errors);
        Assert.Equal([$"nmcli connection modify {Uuid} +ipv4.addresses 203.0.113.10/32"], Modifications(runner));
        Assert.Equal(["203.0.113.10/32"], Assert.Single(NmProfileRecord.Load(record)).Addresses);

        // No managed VIP is left on the host: the save without input keeps none.
        runner.On(Show, "192.0.2.11/24, 203.0.113.99/32, 203.0.113.10/32\n\n");
        runner.Commands.Clear();
        var remove = host.Invoke("Save-LvsVip -Target NetworkManager");

        Assert.Empty(remove.Errors);
        Assert.Equal([$"nmcli connection modify {Uuid} -ipv4.addresses 203.0.113.10/32"], Modifications(runner));
        Assert.Equal(NativeFileAction.Removed, Assert.Single(remove.Output.Select(o => o.BaseObject).OfType<NativeSaveResult>()).Action);
        Assert.False(File.Exists(record));
    }

    [Fact]
    public void WhatIf_ShowsTheExactNmcliCommand_AndChangesNothing()
    {
        var runner = Nm("192.0.2.11/24");
        using var host = new CmdletHost(runner);

        var run = host.Invoke($"{Vip("203.0.113.10")} | Save-LvsVip -Target NetworkManager -Force -WhatIf");

        Assert.Empty(run.Errors);
        Assert.Contains($"NetworkManager connection {Uuid} (Wired connection 1): nmcli connection modify {Uuid} +ipv4.addresses 203.0.113.10/32", host.WhatIf);
        Assert.Empty(Modifications(runner));
        Assert.False(File.Exists(NmProfileRecord.PathBeside(host.RecordPath)));
    }

    [Fact]
    public void AnAddressOfLvsDirectsTheAdminRemovedFromTheProfile_IsForgotten_WithoutAnyNmcliChange_AndNotUnderWhatIf()
    {
        var runner = Nm("192.0.2.11/24");
        using var host = new CmdletHost(runner, managed: []);
        var record = NmProfileRecord.PathBeside(host.RecordPath);
        NmProfileRecord.Save(record, [new NmOwnedAddresses(Uuid, "eth0", ["203.0.113.10/32"])]);

        var whatIf = host.Invoke("Save-LvsVip -Target NetworkManager -WhatIf");

        Assert.Empty(whatIf.Errors);
        Assert.Contains(host.WhatIf, l => l.Contains("no longer holds 203.0.113.10/32", StringComparison.Ordinal));
        Assert.Equal(["203.0.113.10/32"], Assert.Single(NmProfileRecord.Load(record)).Addresses);

        var save = host.Invoke("Save-LvsVip -Target NetworkManager");

        Assert.Empty(save.Errors);
        Assert.Empty(Modifications(runner));
        Assert.False(File.Exists(record));
    }

    [Fact]
    public void TerseOutput_EscapedColonsAndBothSeparators_AreRead_AndAnIPv6VipGoesToIpv6Addresses()
    {
        var active = NetworkManagerProfiles.ParseActive(Uuid + ":eth0:office\\:lan\n");
        Assert.Equal((Uuid, "office:lan"), active["eth0"]);

        var runner = new FakeRunner().On(Active, ActiveOutput).On(Show, "192.0.2.11/24,198.51.100.7/32\n2001\\:db8\\:\\:11/64, 2001\\:DB8\\:\\:99/128\n");
        var vips = new[] { "2001:db8::10", "2001:db8::99", "198.51.100.7" }
            .Select(a => new NativeVip(System.Net.IPAddress.Parse(a), a.Contains(':') ? 128 : 32, "eth0")).ToList();

        var change = Assert.Single(NetworkManagerProfiles.Plan(runner, vips, [], CancellationToken.None));

        Assert.Equal($"nmcli connection modify {Uuid} +ipv6.addresses 2001:db8::10/128", change.Command.ToString());
        Assert.Equal(["2001:db8::10/128"], change.Owned);
    }

    [Fact]
    public void NoActiveConnectionOnTheInterface_IsRefused_BeforeAnyChange()
    {
        var runner = FakeRunner.Host().On(Active, "9d5a2f1e-5b8c-4e0a-8f3d-2c1b0a9e8d7c:lo:lo\n");
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing($"{Vip("203.0.113.10")} | Save-LvsVip -Target NetworkManager -Force -ErrorAction Stop");

        Assert.StartsWith(nameof(LvsErrorKind.NetworkStackNotFound), error.FullyQualifiedErrorId);
        Assert.Empty(Modifications(runner));
    }

    [Fact]
    public void WithPath_TheProfilesAreNotAFolders_SoAVipOnEth0IsRefusedNamingTheNmcliCommand()
    {
        var runner = Nm("192.0.2.11/24");
        using var host = new CmdletHost(runner);
        var root = Directory.CreateTempSubdirectory("lvsdirect-nm-").FullName;
        try
        {
            var error = host.InvokeFailing($"{Vip("203.0.113.10")} | Save-LvsVip -Target NetworkManager -Path '{root}' -Force -ErrorAction Stop");

            Assert.StartsWith(nameof(LvsErrorKind.NetworkStackNotFound), error.FullyQualifiedErrorId);
            Assert.Contains("nmcli connection modify PROFILE +ipv4.addresses 203.0.113.10/32", error.Exception.Message);
            Assert.DoesNotContain(runner.Commands, c => c.Program == "nmcli");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

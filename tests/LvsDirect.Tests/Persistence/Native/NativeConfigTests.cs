using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence.Native;
using Xunit;

namespace LvsDirect.Tests.Persistence.Native;

/// <summary>The native renderers, readers and detection on fixture configurations (the files as stacks ship them).</summary>
public sealed class NativeConfigTests
{
    private static readonly NativeVip Eth0Vip = new(IPAddress.Parse("203.0.113.10"), 32, "eth0", null, ArpMethod.Arptables);
    private static readonly NativeVip LoVip = new(IPAddress.Parse("203.0.113.20"), 32, "lo", null, ArpMethod.Sysctl);

    private const string HostNetwork = "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n";

    // Ubuntu's cloud image: cloud-init's file defines eth0 by MAC and renames it.
    private const string CloudInit = """
        # This file is generated from information provided by the datasource.  Changes
        # to it will not persist across an instance reboot.
        network:
            ethernets:
                ens3:
                    dhcp4: true
                    match:
                        macaddress: 52:54:00:12:34:56
                    set-name: eth0
            version: 2
        """;

    // A profile as NetworkManager writes it (nmcli connection add type ethernet ifname eth0).
    private const string NmEthernet = """
        [connection]
        id=Wired connection 1
        uuid=3b7f6a8e-0d1c-4f3e-9b2a-5c6d7e8f9a0b
        type=ethernet
        autoconnect-priority=-999
        interface-name=eth0

        [ethernet]

        [ipv4]
        method=auto

        [ipv6]
        addr-gen-mode=default
        method=auto

        [proxy]
        """;

    private static NativeConfigFiles Files(params (string Path, string Text)[] files) =>
        new() { Files = files.ToDictionary(f => f.Path, f => f.Text), LinkMacs = new Dictionary<string, string?> { ["eth0"] = "52:54:00:12:34:56", ["lo"] = "00:00:00:00:00:00" } };

    private static NativeConfigFiles With(NativeConfigFiles files, NativeChange change) =>
        files with { Files = new Dictionary<string, string>(files.Files) { [change.Path] = change.Content! } };

    [Fact]
    public void Networkd_VipOnEth0_IsADropInOfTheNetworkFileThatMatchesEth0()
    {
        var files = Files(("lib/systemd/network/80-container.network", "[Match]\nName=ve-*\n"), ("etc/systemd/network/20-wired.network", HostNetwork));

        var plan = NetworkdConfig.Plan(files, [Eth0Vip]);

        var change = Assert.Single(plan.Changes);
        Assert.Equal("etc/systemd/network/20-wired.network.d/90-lvsdirect.conf", change.Path);
        Assert.Equal(NetworkdConfig.Header + "\n\n[Address]\nAddress=203.0.113.10/32\nDuplicateAddressDetection=none\n", change.Content);
    }

    [Fact]
    public void Networkd_FirstMatchingFileByName_WinsAcrossFolders_AndAnEtcFileMasksTheSameNameInLib()
    {
        var files = Files(
            ("usr/lib/systemd/network/10-all.network", "[Match]\nName=*\n"),
            ("etc/systemd/network/10-all.network", "[Match]\nName=!eth*\n"),
            ("run/systemd/network/15-mac.network", "[Match]\nMACAddress=52:54:00:12:34:56\n"),
            ("etc/systemd/network/20-wired.network", HostNetwork));

        Assert.Equal("run/systemd/network/15-mac.network", NetworkdConfig.MatchingFile(files, "eth0"));
        Assert.Equal("etc/systemd/network/10-all.network", NetworkdConfig.MatchingFile(files, "lo"));
    }

    [Fact]
    public void Networkd_MatchKeyItCannotEvaluate_IsRefusedNamingTheFile()
    {
        var files = Files(("etc/systemd/network/10-pci.network", "[Match]\nPath=pci-0000:00:03.0\n"));

        var ex = Assert.Throws<LvsException>(() => NetworkdConfig.Plan(files, [Eth0Vip]));

        Assert.Equal(LvsErrorKind.ParseError, ex.Kind);
        Assert.Contains("/etc/systemd/network/10-pci.network", ex.Message);
    }

    [Fact]
    public void Networkd_LoWithoutAFile_GetsLvsDirectsOwn_WhichTheNextSaveDoesNotMistakeForTheHosts()
    {
        var files = Files(("etc/systemd/network/20-wired.network", HostNetwork));

        var first = NetworkdConfig.Plan(files, [LoVip]);
        var own = Assert.Single(first.Changes);
        Assert.Equal("etc/systemd/network/10-lvsdirect-lo.network", own.Path);
        Assert.Contains("[Match]\nName=lo\n", own.Content);

        var second = Assert.Single(NetworkdConfig.Plan(With(files, own), [LoVip]).Changes);
        Assert.Equal((own.Path, own.Content), (second.Path, second.Content));
    }

    [Fact]
    public void Networkd_ANetworkFileThatAlsoConfiguresOtherLinks_GetsNoDropIn()
    {
        var files = Files(("etc/systemd/network/99-all.network", "[Match]\nName=*\n\n[Network]\nDHCP=yes\n"));

        var ex = Assert.Throws<LvsException>(() => NetworkdConfig.Plan(files, [Eth0Vip]));

        Assert.Equal(LvsErrorKind.NetworkStackNotFound, ex.Kind);
        Assert.Contains("also lo", ex.Message);
    }

    [Fact]
    public void Networkd_InterfaceNoFileMatches_IsRefused()
    {
        var ex = Assert.Throws<LvsException>(() => NetworkdConfig.Plan(Files(("etc/systemd/network/20-wired.network", "[Match]\nName=ens*\n")), [Eth0Vip]));

        Assert.Equal(LvsErrorKind.NetworkStackNotFound, ex.Kind);
    }

    [Fact]
    public void Networkd_NoVipLeft_RemovesOnlyLvsDirectsFiles()
    {
        var files = Files(
            ("etc/systemd/network/20-wired.network", HostNetwork),
            ("etc/systemd/network/20-wired.network.d/50-dns.conf", "[Network]\nDNS=192.0.2.53\n"));
        files = With(files, NetworkdConfig.Plan(files, [Eth0Vip]).Changes[0]);
        files = With(files, new NativeChange("etc/systemd/network/10-lvsdirect-lo.network", NetworkdConfig.Header + "\n\n[Match]\nName=lo\n", default));

        var plan = NetworkdConfig.Plan(files, []);

        Assert.All(plan.Changes, c => Assert.True(c.Removes));
        Assert.Equal(["etc/systemd/network/10-lvsdirect-lo.network", "etc/systemd/network/20-wired.network.d/90-lvsdirect.conf"], plan.Changes.Select(c => c.Path).Order());
    }

    [Fact]
    public void Networkd_ReadsBackTheVipsOfItsOwnFiles_ByTheLinkTheirNetworkFileMatches()
    {
        var files = Files(("etc/systemd/network/20-wired.network", HostNetwork));
        foreach (var c in NetworkdConfig.Plan(files, [Eth0Vip, LoVip]).Changes)
        {
            files = With(files, c);
        }

        var read = NativeDetector.ReadPersisted(files).Select(v => $"{v.Address}/{v.PrefixLength} {v.InterfaceName} {v.Target}").Order();

        Assert.Equal(["203.0.113.10/32 eth0 Networkd", "203.0.113.20/32 lo Networkd"], read);
    }

    [Fact]
    public void Networkd_Glob_FollowsFnmatch()
    {
        Assert.True(NetworkdConfig.Glob("en[a-z]?", "ens3", false));
        Assert.False(NetworkdConfig.Glob("en[!s]*", "ens3", false));
        Assert.True(NetworkdConfig.Glob("*", "lo", false));
        Assert.False(NetworkdConfig.Glob("eth", "eth0", false));
    }

    [Fact]
    public void Netplan_OwnFile_UsesTheIdThatSetNameGivesTheInterface_AndNeverTouchesCloudInit()
    {
        var files = Files(("etc/netplan/50-cloud-init.yaml", CloudInit));

        var plan = NetplanConfig.Plan(files, [Eth0Vip, LoVip]);

        var change = Assert.Single(plan.Changes);
        Assert.Equal("etc/netplan/90-lvsdirect.yaml", change.Path);
        Assert.Equal(NetplanConfig.Header + "\nnetwork:\n  version: 2\n  ethernets:\n    \"ens3\":\n      addresses:\n        - \"203.0.113.10/32\"\n    \"lo\":\n      addresses:\n        - \"203.0.113.20/32\"\n", change.Content);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, change.Mode);
        Assert.Equal(["203.0.113.10 eth0", "203.0.113.20 lo"], NativeDetector.ReadPersisted(With(files, change)).Select(v => $"{v.Address} {v.InterfaceName}").Order());
    }

    [Fact]
    public void Netplan_FlowStyle_IsRefusedRatherThanMisread()
    {
        var files = Files(("etc/netplan/01-flow.yaml", "network: {version: 2, ethernets: {eth0: {dhcp4: true}}}\n"));

        Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => NetplanConfig.Plan(files, [Eth0Vip])).Kind);
    }

    [Fact]
    public void Netplan_AFileOfThatNameNotWrittenByLvsDirect_IsRefused()
    {
        var files = Files(("etc/netplan/50-cloud-init.yaml", CloudInit), ("etc/netplan/90-lvsdirect.yaml", "network: {}\n"));

        Assert.Equal(LvsErrorKind.FileError, Assert.Throws<LvsException>(() => NetplanConfig.Plan(files, [Eth0Vip])).Kind);
    }

    [Fact]
    public void NetworkManager_VipsOnLo_GoToALoopbackProfileOfItsOwn_Private()
    {
        var files = Files(("etc/NetworkManager/system-connections/Wired connection 1.nmconnection", NmEthernet)) with { NetworkManagerVersion = new Version(1, 46, 0) };

        var change = Assert.Single(NetworkManagerConfig.Plan(files, [LoVip]).Changes);

        Assert.Equal("etc/NetworkManager/system-connections/lvsdirect-lo.nmconnection", change.Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, change.Mode);
        Assert.Contains("type=loopback\ninterface-name=lo\n", change.Content);
        Assert.Contains("[ipv4]\nmethod=manual\naddress1=203.0.113.20/32\n", change.Content);
        Assert.Equal(["203.0.113.20 lo"], NativeDetector.ReadPersisted(With(files, change)).Select(v => $"{v.Address} {v.InterfaceName}"));
    }

    [Fact]
    public void NetworkManager_OlderThan142_DoesNotManageLo_AndIsRefused()
    {
        var files = Files() with { NetworkManagerVersion = NativeConfigFiles.ParseVersion("1.30.6-1.el8") };

        Assert.Equal(LvsErrorKind.NetworkStackNotFound, Assert.Throws<LvsException>(() => NetworkManagerConfig.Plan(files, [LoVip])).Kind);
    }

    [Fact]
    public void NetworkManager_VipOnEth0_GoesToTheActiveProfile_NeverIntoNmsFile_AndOfflineIsRefusedWithTheNmcliCommand()
    {
        var files = Files(("etc/NetworkManager/system-connections/Wired connection 1.nmconnection", NmEthernet));

        var plan = NetworkManagerConfig.Plan(files, [Eth0Vip]);
        var ex = NetworkManagerConfig.ProfileRefusal(files, plan.ProfileVips);

        Assert.Empty(plan.Changes);
        Assert.Equal([Eth0Vip], plan.ProfileVips);
        Assert.Equal(LvsErrorKind.NetworkStackNotFound, ex.Kind);
        Assert.Contains("nmcli connection modify 3b7f6a8e-0d1c-4f3e-9b2a-5c6d7e8f9a0b +ipv4.addresses 203.0.113.10/32", ex.Message);
    }

    [Fact]
    public void Ifupdown_ExtraStanzasInItsOwnFile_WhenInterfacesSourcesTheFolder()
    {
        const string interfaces = "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n";
        var files = Files(("etc/network/interfaces", interfaces));
        var v6 = new NativeVip(IPAddress.Parse("2001:db8::10"), 128, "lo");

        var change = Assert.Single(IfupdownConfig.Plan(files, [Eth0Vip, LoVip, v6]).Changes);

        Assert.Equal("etc/network/interfaces.d/lvsdirect", change.Path);
        Assert.Equal(IfupdownConfig.Header + "\n\niface eth0 inet static\n    address 203.0.113.10/32\n\niface lo inet static\n    address 203.0.113.20/32\n\niface lo inet6 static\n    address 2001:db8::10/128\n    dad-attempts 0\n", change.Content);
        Assert.Equal(3, NativeDetector.ReadPersisted(With(files, change)).Count);
    }

    [Fact]
    public void Ifupdown_WithoutASourceLine_IsRefused_ForIfupWouldNeverReadTheFile()
    {
        var files = Files(("etc/network/interfaces", "auto eth0\niface eth0 inet dhcp\n"));

        Assert.Equal(LvsErrorKind.NetworkStackNotFound, Assert.Throws<LvsException>(() => IfupdownConfig.Plan(files, [Eth0Vip])).Kind);
    }

    [Fact]
    public void Auto_PicksTheStackThatManagesEachInterface_AndRemovesTheOthersOwnFiles()
    {
        var files = Files(
            ("etc/systemd/network/20-wired.network", HostNetwork),
            ("etc/network/interfaces", "source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n"),
            ("etc/netplan/90-lvsdirect.yaml", NetplanConfig.Header + "\nnetwork:\n  version: 2\n"));

        var plans = NativePersistence.Plan(NativeTarget.Auto, files, [Eth0Vip, LoVip]);

        Assert.Equal("etc/systemd/network/20-wired.network.d/90-lvsdirect.conf", plans.Single(p => p.Target == NativeTarget.Networkd).Changes.Single().Path);
        Assert.Equal("etc/network/interfaces.d/lvsdirect", plans.Single(p => p.Target == NativeTarget.Ifupdown).Changes.Single().Path);
        Assert.True(plans.Single(p => p.Target == NativeTarget.Netplan).Changes.Single().Removes);
        Assert.Contains(plans.SelectMany(p => p.Notes), n => n.StartsWith("eth0: Auto chose Networkd", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_NoStackManagesTheInterface_IsRefused()
    {
        Assert.Equal(LvsErrorKind.NetworkStackNotFound, Assert.Throws<LvsException>(() => NativePersistence.Plan(NativeTarget.Auto, Files(), [Eth0Vip])).Kind);
    }

    [Fact]
    public void Detect_NetplanWinsOverTheNetworkdFilesItGenerates()
    {
        var files = Files(("etc/netplan/50-cloud-init.yaml", CloudInit), ("run/systemd/network/10-netplan-ens3.network", HostNetwork));

        Assert.Equal(NativeTarget.Netplan, NativeDetector.Detect(files, "eth0")?.Target);
        Assert.Equal(NativeTarget.Netplan, NativeDetector.Detect(files, "lo")?.Target);
    }

    [Fact]
    public void MissingSuppression_NamesEachVipWhoseMethodDoesNotLoadBeforeTheNetwork()
    {
        var saved = ArptablesRuleSet.Parse("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.10\n");
        var boot = new BootSuppression { SavedRules = saved };

        var missing = NativePersistence.MissingSuppression([Eth0Vip, LoVip], boot);

        Assert.Equal([IPAddress.Parse("203.0.113.20")], missing.Select(m => m.Vip));
        Assert.Empty(NativePersistence.MissingSuppression([Eth0Vip, LoVip], boot with
        {
            Sysctls = new Dictionary<(string, string), int> { [("all", "arp_ignore")] = 1, [("all", "arp_announce")] = 2 },
        }));
    }

    [Fact]
    public void PersistTargetAuto_GoesNativeOnlyWhereSaveLvsVipCanKeepTheVips()
    {
        var networkd = Files(("etc/systemd/network/20-wired.network", HostNetwork));
        var nm = Files(("etc/NetworkManager/system-connections/Wired connection 1.nmconnection", NmEthernet));

        Assert.True(PersistTargets.StackManagesAll(networkd, ["eth0"]));
        Assert.False(PersistTargets.StackManagesAll(networkd, ["eth0", "lo"]));
        Assert.False(PersistTargets.StackManagesAll(nm, ["eth0"]));
        Assert.False(PersistTargets.StackManagesAll(Files(), ["eth0"]));
        Assert.Equal(NativeTarget.Netplan, PersistTargets.Native(PersistTarget.Netplan));
        Assert.Null(PersistTargets.Native(PersistTarget.Systemd));
    }
}

using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence.Native;
using LvsDirect.Tests.Diagnostics;
using Xunit;

namespace LvsDirect.Tests.Persistence.Native;

/// <summary>Test-LvsRealServer's VipPersisted with the VIPs kept by a network stack (Save-LvsVip), no rc.local block.</summary>
public sealed class NativeDiagnosisTests
{
    private const string DropIn = "/etc/systemd/network/10-eth0.network.d/90-lvsdirect.conf";

    private static RealServerCheck VipPersisted(DiagnosisBuilder host, params NativePersistedVip[] native)
    {
        var s = host.Snapshot();
        var snapshot = new RealServerSnapshot
        {
            ComputerName = s.ComputerName,
            State = s.State,
            ArptablesInstalled = s.ArptablesInstalled,
            Sysctls = s.Sysctls,
            Persisted = s.Persisted with { NativeVips = native },
        };
        return RealServerDiagnosis.Run(snapshot, new DiagnosisRequest()).Single(c => c.Check == CheckNames.VipPersisted && c.Target == DiagnosisBuilder.Vip);
    }

    private static NativePersistedVip Kept(string nic = "eth0") => new(IPAddress.Parse(DiagnosisBuilder.Vip), 32, nic, NativeTarget.Networkd, DropIn);

    [Fact]
    public void AVipTheDropInBringsUp_AsItIsNow_Passes()
    {
        var check = VipPersisted(new DiagnosisBuilder { RcLocal = null }, Kept());

        Assert.Equal(CheckStatus.Pass, check.Status);
        Assert.Contains(DropIn + " (Networkd)", check.Detail);
    }

    [Fact]
    public void AVipTheDropInBringsUp_ThatIsNotLive_Fails()
    {
        var host = new DiagnosisBuilder { RcLocal = null }.RemoveAddress("eth0", DiagnosisBuilder.Vip + "/32");

        var check = VipPersisted(host, Kept());

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("not configured now", check.Detail);
    }

    [Fact]
    public void AVipOnAnotherInterfaceThanTheFileSays_Fails()
    {
        Assert.Equal(CheckStatus.Fail, VipPersisted(new DiagnosisBuilder { RcLocal = null }, Kept("lo")).Status);
    }

    [Fact]
    public void ALiveVipInNoBootFile_WhereNativeFilesExist_FailsNamingSaveLvsVip()
    {
        var other = new NativePersistedVip(IPAddress.Parse("203.0.113.200"), 32, "eth0", NativeTarget.Netplan, "/etc/netplan/90-lvsdirect.yaml");

        var check = VipPersisted(new DiagnosisBuilder { RcLocal = null }, other);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Equal("Save-LvsVip -Target Netplan", check.Remediation);
    }

    [Fact]
    public void AVipLvsDirectAddedToANetworkManagerProfile_IsPersisted_AsItsRecordSays()
    {
        var dir = Directory.CreateTempSubdirectory("lvs-nmrec-").FullName;
        try
        {
            var record = NmProfileRecord.PathBeside(Path.Combine(dir, "vips.json"));
            NmProfileRecord.Save(record, [new NmOwnedAddresses("3b7f6a8e-0d1c-4f3e-9b2a-5c6d7e8f9a0b", "eth0", [DiagnosisBuilder.Vip + "/32"])]);

            var kept = Assert.Single(NmProfileRecord.PersistedVips(record));
            var check = VipPersisted(new DiagnosisBuilder { RcLocal = null }, kept);

            Assert.Equal(CheckStatus.Pass, check.Status);
            Assert.Contains("NetworkManager connection 3b7f6a8e-0d1c-4f3e-9b2a-5c6d7e8f9a0b (NetworkManager)", check.Detail);
            Assert.Equal(CheckStatus.Fail, VipPersisted(new DiagnosisBuilder { RcLocal = null }.RemoveAddress("eth0", DiagnosisBuilder.Vip + "/32"), kept).Status);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

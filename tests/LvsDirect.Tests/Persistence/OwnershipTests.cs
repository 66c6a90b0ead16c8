using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Persistence;

/// <summary>The ownership record on disk, and which VIPs count as LvsDirect's (record, earlier boot blocks).</summary>
public sealed class OwnershipTests : IDisposable
{
    private static readonly IPAddress Vip = IPAddress.Parse("203.0.113.100");
    private static readonly IPAddress HandMade = IPAddress.Parse("203.0.113.5");

    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-owner-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static HostState StateWith(string addrInfo) => new HostInspector(FakeRunner.Host(extraAddrInfo: addrInfo)).Read(false, CancellationToken.None);

    private string RecordPath => Path.Combine(_dir, VipRecord.FileName);

    // The block as LvsDirect 0.1 wrote it: rules in the built-in chains, `ip addr replace` lines.
    private const string OldBlock =
        "#!/bin/sh -e\n" + RcLocal.BeginMarker + "\n"
        + "arptables -D INPUT -d 203.0.113.100 -j DROP 2>/dev/null\narptables -A INPUT -d 203.0.113.100 -j DROP\n"
        + "arptables -D OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11 2>/dev/null\narptables -A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11\n"
        + "ip addr replace 203.0.113.100/32 dev eth0 label eth0:1\n" + RcLocal.EndMarker + "\nexit 0\n";

    [Fact]
    public void Record_RoundTrips_0600_OneEntryPerAddress_AndEmptyRemovesTheFile()
    {
        VipRecord.Save(RecordPath, [new ManagedVip(Vip, 32, "eth0", "eth0:1"), new ManagedVip(HandMade, 32, "lo"), new ManagedVip(Vip, 32, "eth0", "eth0:1")]);

        Assert.Equal([new ManagedVip(HandMade, 32, "lo"), new ManagedVip(Vip, 32, "eth0", "eth0:1")], VipRecord.Load(RecordPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(RecordPath));
        Assert.False(VipRecord.Save(RecordPath, [new ManagedVip(HandMade, 32, "lo"), new ManagedVip(Vip, 32, "eth0", "eth0:1")]));

        Assert.True(VipRecord.Save(RecordPath, []));
        Assert.False(File.Exists(RecordPath));
        Assert.Empty(VipRecord.Load(RecordPath));
    }

    // The record exactly as the earlier releases (System.Text.Json's serializer, indented) wrote it: the same text
    // reads back to the same VIPs and is rendered byte for byte again, so an upgrade neither rewrites nor misreads it.
    private const string EarlierRecord = """
        {
          "comment": "Written by LvsDirect: the VIPs it manages in this network namespace. Addresses not listed here are never changed by it.",
          "vips": [
            {
              "address": "203.0.113.5",
              "prefixLength": 32,
              "interfaceName": "lo"
            },
            {
              "address": "203.0.113.100",
              "prefixLength": 32,
              "interfaceName": "eth0",
              "label": "eth0:1"
            },
            {
              "address": "2001:db8::10",
              "prefixLength": 128,
              "interfaceName": "lo"
            }
          ]
        }

        """;

    [Fact]
    public void Record_AsEarlierReleasesWroteIt_ReadsBackAndRendersIdentically()
    {
        var vips = VipRecord.Parse(EarlierRecord, RecordPath);

        Assert.Equal([new ManagedVip(HandMade, 32, "lo"), new ManagedVip(Vip, 32, "eth0", "eth0:1"), new ManagedVip(IPAddress.Parse("2001:db8::10"), 128, "lo")], vips);
        Assert.Equal(EarlierRecord, VipRecord.Render([vips[2], vips[1], vips[0]]));
    }

    // What the earlier releases' serializer wrote for the same VIPs, names that need escaping included.
    private static string SerializerRecord(IEnumerable<ManagedVip> sorted) =>
        System.Text.Json.JsonSerializer.Serialize(
            new Dictionary<string, object>
            {
                ["comment"] = "Written by LvsDirect: the VIPs it manages in this network namespace. Addresses not listed here are never changed by it.",
                ["vips"] = sorted.Select(v => new SerializedEntry(v.Address.ToString(), v.PrefixLength, v.InterfaceName, v.Label)).ToList(),
            },
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }) + "\n";

    private sealed record SerializedEntry(
        [property: System.Text.Json.Serialization.JsonPropertyName("address")] string Address,
        [property: System.Text.Json.Serialization.JsonPropertyName("prefixLength")] int PrefixLength,
        [property: System.Text.Json.Serialization.JsonPropertyName("interfaceName")] string InterfaceName,
        [property: System.Text.Json.Serialization.JsonPropertyName("label")] string? Label);

    [Theory]
    [InlineData("eth0", null)]
    [InlineData("eth0.100", "eth0.100:vip-1")]
    [InlineData("br-lan", "br-lan:a_b")]
    [InlineData("eth\u00e90", null)]
    [InlineData("eth0", "eth0:a\"b")]
    [InlineData("eth0", "eth0:<x>&+'")]
    public void Record_IsWrittenAsTheSerializerWroteIt_AnyNameIncluded(string interfaceName, string? label)
    {
        var vips = Enumerable.Range(1, 300).Select(i => new ManagedVip(IPAddress.Parse($"198.51.{i / 250}.{i % 250}"), 32, interfaceName, label))
            .Append(new ManagedVip(IPAddress.Parse("2001:db8::7"), 128, "lo")).Reverse().ToList();

        var sorted = vips.OrderBy(v => v.Address.AddressFamily).ThenBy(v => v.Address.GetAddressBytes(), Comparer<byte[]>.Create((x, y) => ((ReadOnlySpan<byte>)x).SequenceCompareTo(y)));
        Assert.Equal(SerializerRecord(sorted), VipRecord.Render(vips));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"vips\": {}}")]
    [InlineData("{\"vips\": [{\"address\": 5, \"prefixLength\": 32, \"interfaceName\": \"lo\"}]}")]
    [InlineData("{\"vips\": [{\"address\": \"203.0.113.5\", \"prefixLength\": \"32\", \"interfaceName\": \"lo\"}]}")]
    [InlineData("{\"vips\": [{\"address\": \"203.0.113.5\", \"prefixLength\": 32}]}")]
    [InlineData("{\"vips\": [\"203.0.113.5\"]}")]
    public void Record_OfTheWrongShape_IsAParseError(string text)
    {
        Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => VipRecord.Parse(text, RecordPath)).Kind);
    }

    [Fact]
    public void Record_ASymlinkInItsPlace_IsNeitherReadNorWrittenThrough()
    {
        var target = Path.Combine(_dir, "elsewhere.json");
        File.WriteAllText(target, VipRecord.Render([new ManagedVip(HandMade, 32, "eth0")]));
        File.CreateSymbolicLink(RecordPath, target);

        Assert.Equal(LvsErrorKind.FileError, Assert.Throws<LvsException>(() => VipRecord.Load(RecordPath)).Kind);
        Assert.Equal(LvsErrorKind.FileError, Assert.Throws<LvsException>(() => VipRecord.Save(RecordPath, [new ManagedVip(Vip, 32, "eth0")])).Kind);
        Assert.Contains("203.0.113.5", File.ReadAllText(target));
    }

    [Fact]
    public void Record_Damaged_IsAParseError()
    {
        File.WriteAllText(RecordPath, "{\"vips\":[{\"address\":\"not-an-ip\",\"prefixLength\":32,\"interfaceName\":\"eth0\"}]}");

        Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => VipRecord.Load(RecordPath)).Kind);
    }

    [Fact]
    public void AnEarlierVersionsBlock_MakesItsVipsManaged_AndTheirBuiltinRulesLvsDirects()
    {
        var ownership = Ownership.FromTexts([], OldBlock, "/etc/rc.local", null);

        Assert.True(ownership.IsManaged(Vip));
        Assert.False(ownership.IsManaged(HandMade));
        Assert.Equal([Vip], ownership.BuiltinRuleVips);

        var change = new DesiredChange();
        ownership.MarkBuiltinRules(change, [HandMade]);
        Assert.Equal(new HashSet<IPAddress> { Vip, HandMade }, change.MigrateBuiltinRules);
    }

    [Fact]
    public void ABlockWhoseRulesAreInLvsDirectsChains_IsManaged_WithNoBuiltinRulesToMove()
    {
        var block = "#!/bin/sh\n" + RcLocal.BeginMarker + "\narptables -N LVSDIRECT-IN 2>/dev/null || true\n"
                    + "arptables -A LVSDIRECT-IN -d 203.0.113.100 -j DROP\nip addr add 203.0.113.100/32 dev eth0 2>/dev/null || true\n" + RcLocal.EndMarker + "\n";
        var unit = SystemdUnit.Header + "\n[Service]\nExecStart=/usr/sbin/ip addr replace 203.0.113.7/32 dev lo\n";

        var ownership = Ownership.FromTexts([], block, "/etc/rc.local", unit);

        Assert.True(ownership.IsManaged(Vip));
        Assert.True(ownership.IsManaged(IPAddress.Parse("203.0.113.7")));
        Assert.Empty(ownership.BuiltinRuleVips);
    }

    [Fact]
    public void BootFiles_DoNotDescribeANamespaceMadeWithIpNetns_UnlessNamed()
    {
        Assert.True(Ownership.BootFilesApply(HostScopeKind.Host, rcLocalGiven: false));
        Assert.True(Ownership.BootFilesApply(HostScopeKind.Anonymous, rcLocalGiven: false));
        Assert.False(Ownership.BootFilesApply(HostScopeKind.Named, rcLocalGiven: false));
        Assert.True(Ownership.BootFilesApply(HostScopeKind.Named, rcLocalGiven: true));
    }

    [Fact]
    public void RequireManaged_RefusesAConfiguredVipItDidNotCreate_UnlessAdopted_AndIgnoresAbsentOnes()
    {
        var state = StateWith(",{\"family\":\"inet\",\"local\":\"203.0.113.5\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}");
        var ownership = new Ownership([new ManagedVip(Vip, 32, "eth0")]);

        var ex = Assert.Throws<LvsException>(() => ownership.RequireManaged(state, [HandMade, Vip, IPAddress.Parse("203.0.113.9")], adopt: false, "New-LvsVip"));

        Assert.Equal(LvsErrorKind.NotManaged, ex.Kind);
        Assert.Contains("-Adopt", ex.Message);
        Assert.Equal([HandMade], ownership.RequireManaged(state, [HandMade, Vip], adopt: true, "New-LvsVip"));
    }

    [Fact]
    public void After_TakesBootOnlyVipsIntoTheRecord_ForgetsRemoved_AddsNew()
    {
        var state = StateWith(",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0:1\"}");
        var ownership = Ownership.FromTexts([new ManagedVip(IPAddress.Parse("203.0.113.9"), 32, "eth0")], OldBlock, "/etc/rc.local", null);

        var next = ownership.After(state, [new ManagedVip(HandMade, 32, "lo")], [IPAddress.Parse("203.0.113.9")]);

        Assert.Equal(
            ["203.0.113.100/32 eth0 eth0:1", "203.0.113.5/32 lo "],
            next.Select(v => $"{v.Address}/{v.PrefixLength} {v.InterfaceName} {v.Label}").Order(StringComparer.Ordinal));
        Assert.True(ownership.Differs(next));
    }
}

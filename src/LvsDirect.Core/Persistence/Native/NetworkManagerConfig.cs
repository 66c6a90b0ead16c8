using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// NetworkManager: from 1.42 it manages lo through a loopback profile, so the VIPs on lo go into a keyfile
/// profile of LvsDirect's own (`lvsdirect-lo.nmconnection`, 0600 as NM requires, a higher autoconnect priority
/// than NM's generated `lo`). The profile of another interface's active connection is NM's file, not
/// LvsDirect's: it is never edited here; those VIPs are the plan's <see cref="NativePlan.ProfileVips"/>, which
/// <see cref="NetworkManagerProfiles"/> adds through nmcli.
/// </summary>
public static class NetworkManagerConfig
{
    public const string FileName = "lvsdirect-lo.nmconnection";

    public const string RelativePath = "etc/NetworkManager/system-connections/" + FileName;

    public const string Header = "# Written by LvsDirect (Save-LvsVip -Target NetworkManager): the VIPs it manages on lo. Regenerate it, do not edit it.";

    /// <summary>Fixed, so the same VIPs always give the same file.</summary>
    public const string Uuid = "6c7d8e9f-4a5b-4c6d-8e7f-1a2b3c4d5e6f";

    /// <summary>The first NetworkManager that manages lo with a loopback profile.</summary>
    public static readonly Version LoopbackVersion = new(1, 42);

    public static bool IsOurs(string? text) => text?.StartsWith(Header, StringComparison.Ordinal) == true;

    /// <summary>The keyfile profiles (other than LvsDirect's) bound to <paramref name="interfaceName"/>, by id.</summary>
    public static IEnumerable<(string Path, string Id, string? Uuid)> Profiles(NativeConfigFiles files, string interfaceName) =>
        NativeConfigFiles.NetworkManagerFolders.SelectMany(files.In)
            .Where(f => !IsOurs(f.Text))
            .Select(f => (f.Path, Entries: IniText.Parse(f.Text)))
            .Where(f => f.Entries.Any(e => e.Section == "connection" && e.Key == "interface-name" && e.Value == interfaceName))
            .Select(f => (f.Path,
                f.Entries.FirstOrDefault(e => e.Section == "connection" && e.Key == "id").Value ?? Path.GetFileNameWithoutExtension(f.Path),
                (string?)f.Entries.FirstOrDefault(e => e.Section == "connection" && e.Key == "uuid").Value));

    /// <summary>
    /// The refusal for VIPs on other interfaces than lo where only files are written (-Path, Set-LvsRealServer
    /// -Persist): the running NetworkManager alone changes its profiles. It names the commands that do.
    /// </summary>
    public static LvsException ProfileRefusal(NativeConfigFiles files, IReadOnlyList<NativeVip> other)
    {
        var iface = other[0].InterfaceName;
        var profile = Profiles(files, iface).Select(p => p.Uuid ?? p.Id).FirstOrDefault() ?? "PROFILE";
        var adds = string.Join(",", other.Where(v => v.InterfaceName == iface).Select(v => v.Cidr));
        return new LvsException(LvsErrorKind.NetworkStackNotFound,
            $"NetworkManager keeps {iface}'s addresses in the profile of its connection, which only the running NetworkManager changes, not a file written into a configuration folder (-Path) or by Set-LvsRealServer -Persist. On the host, run Save-LvsVip -Target NetworkManager (without -Path), or: nmcli connection modify {profile} +ipv{(other[0].IsIPv6 ? 6 : 4)}.addresses {adds}",
            iface);
    }

    public static NativePlan Plan(NativeConfigFiles files, IReadOnlyList<NativeVip> allVips)
    {
        var other = allVips.Where(v => v.InterfaceName != "lo").ToList();
        var vips = allVips.Where(v => v.InterfaceName == "lo").ToList();
        var existing = files.Text(RelativePath);
        if (existing is not null && !IsOurs(existing))
        {
            throw new LvsException(LvsErrorKind.FileError, $"/{RelativePath} exists and was not written by LvsDirect; it is left as it is.", RelativePath);
        }

        if (vips.Count > 0 && files.NetworkManagerVersion is { } version && version < LoopbackVersion)
        {
            throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                $"NetworkManager {version} does not manage lo (that came with {LoopbackVersion}), so a loopback profile would be ignored. Use Export-RcLocal (or -Target Networkd where networkd runs) for the VIPs on lo.", version.ToString());
        }

        var changes = new List<NativeChange>();
        if (vips.Count > 0)
        {
            changes.Add(new NativeChange(RelativePath, Render(vips), NativeModes.Private) { Vips = vips });
        }
        else if (existing is not null)
        {
            changes.Add(new NativeChange(RelativePath, null, NativeModes.Private));
        }

        var notes = other.Select(v => v.InterfaceName).Distinct().Select(i => $"{i}: the profile of its active connection, through nmcli.");
        return new NativePlan(NativeTarget.NetworkManager, changes, [.. vips.Count > 0 ? ["lo: LvsDirect's own loopback profile."] : Array.Empty<string>(), .. notes]) { ProfileVips = other };
    }

    /// <summary>
    /// A loopback profile: NM adds 127.0.0.1/8 and ::1 to it itself.
    /// </summary>
    internal static string Render(IEnumerable<NativeVip> vips)
    {
        var ordered = vips.OrderBy(v => v.Address.GetAddressBytes(), ByteComparer.Instance).ToList();
        var text = new StringBuilder(Header).Append('\n')
            .Append("[connection]\nid=lvsdirect-lo\nuuid=").Append(Uuid).Append('\n')
            .Append("type=loopback\ninterface-name=lo\nautoconnect-priority=100\n");
        foreach (var (family, key) in new[] { (false, "ipv4"), (true, "ipv6") })
        {
            text.Append('\n').Append('[').Append(key).Append("]\nmethod=manual\n");
            var n = 1;
            foreach (var v in ordered.Where(v => v.IsIPv6 == family))
            {
                text.Append("address").Append(n++).Append('=').Append(v.Cidr).Append('\n');
            }
        }

        return text.ToString();
    }

    public static IEnumerable<NativePersistedVip> Read(NativeConfigFiles files)
    {
        var text = files.Text(RelativePath);
        if (!IsOurs(text))
        {
            return [];
        }

        return IniText.Parse(text!)
            .Where(e => e.Section is "ipv4" or "ipv6" && e.Key.StartsWith("address", StringComparison.Ordinal))
            .Select(e => NativeAddress.TryParse(e.Value.Split(',')[0], out var a, out var p) ? new NativePersistedVip(a, p, "lo", NativeTarget.NetworkManager, "/" + RelativePath) : null)
            .OfType<NativePersistedVip>()
            .ToList();
    }
}

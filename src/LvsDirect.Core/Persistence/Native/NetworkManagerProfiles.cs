using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>The addresses LvsDirect added to one NetworkManager profile (by UUID), as its record keeps them.</summary>
public sealed record NmOwnedAddresses(string Uuid, string InterfaceName, IReadOnlyList<string> Addresses);

/// <summary>
/// What one `nmcli connection modify` does to one profile: the VIPs it adds, LvsDirect's addresses it removes,
/// and the addresses of LvsDirect's the profile keeps afterwards (what the record then says).
/// </summary>
public sealed record NmProfileChange(string Uuid, string InterfaceName, string? Name, IReadOnlyList<string> Add, IReadOnlyList<string> Remove, IReadOnlyList<string> Owned)
{
    public bool Changes => Add.Count > 0 || Remove.Count > 0;

    /// <summary>One property pair per address: nmcli applies them in order, in one change of the profile.</summary>
    public ToolCommand Command => ToolCommand.Create("nmcli",
    [
        "connection", "modify", Uuid,
        .. Add.SelectMany(a => new[] { "+" + Property(a), a }),
        .. Remove.SelectMany(a => new[] { "-" + Property(a), a }),
    ]);

    private static string Property(string cidr) => cidr.Contains(':') ? "ipv6.addresses" : "ipv4.addresses";
}

/// <summary>
/// The VIPs on an interface NetworkManager manages go into the profile of the device's active connection, through
/// NetworkManager itself (nmcli): the keyfile is NM's, not LvsDirect's, and NM may keep it in a plugin's format or
/// rewrite it. Which addresses LvsDirect added is remembered, because the profile cannot tell them from the
/// admin's: an address the profile already had is the admin's and is never removed. The live address is not
/// touched (no `nmcli connection up`): the VIP is already on the interface, and reapplying would bounce it.
/// </summary>
public static class NetworkManagerProfiles
{
    /// <summary>
    /// The changes that make the active profiles hold <paramref name="vips"/> and no other address of LvsDirect's
    /// in <paramref name="owned"/>. Asks NM only when there is something to keep or to remove.
    /// </summary>
    public static IReadOnlyList<NmProfileChange> Plan(IProcessRunner runner, IReadOnlyList<NativeVip> vips, IReadOnlyList<NmOwnedAddresses> owned, CancellationToken cancellationToken)
    {
        if (vips.Count == 0 && owned.All(o => o.Addresses.Count == 0))
        {
            return [];
        }

        if (runner.Locate("nmcli") is null)
        {
            throw new LvsException(LvsErrorKind.ProgramNotFound,
                "nmcli is not installed, so NetworkManager's profiles cannot be changed. Install the network-manager package (NetworkManager on RHEL and Fedora), or save the VIPs with Export-RcLocal.", "nmcli");
        }

        var active = ParseActive(runner.RunChecked(ToolCommand.Create("nmcli", "-g", "UUID,DEVICE,NAME", "connection", "show", "--active"), cancellationToken).StandardOutput);
        var wanted = new Dictionary<string, (string Interface, string? Name, List<string> Cidrs)>(StringComparer.Ordinal);
        foreach (var v in vips)
        {
            if (!active.TryGetValue(v.InterfaceName, out var connection))
            {
                throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                    $"NetworkManager has no active connection on {v.InterfaceName}, so there is no profile to keep {v.Cidr} in. Bring the interface's connection up with NetworkManager first, or use another -Target (Export-RcLocal where no stack manages it).",
                    v.InterfaceName);
            }

            if (!wanted.TryGetValue(connection.Uuid, out var entry))
            {
                wanted[connection.Uuid] = entry = (v.InterfaceName, connection.Name, []);
            }

            entry.Cidrs.Add(Normalize(v.Cidr));
        }

        var changes = new List<NmProfileChange>();
        foreach (var uuid in wanted.Keys.Concat(owned.Select(o => o.Uuid)).Distinct(StringComparer.Ordinal))
        {
            var ours = owned.Where(o => o.Uuid == uuid).SelectMany(o => o.Addresses).Select(Normalize).ToHashSet(StringComparer.Ordinal);
            var want = wanted.TryGetValue(uuid, out var w) ? w.Cidrs.Distinct(StringComparer.Ordinal).ToList() : [];
            var iface = w.Interface ?? owned.First(o => o.Uuid == uuid).InterfaceName;
            var show = runner.Run(ToolCommand.Create("nmcli", "-g", "ipv4.addresses,ipv6.addresses", "connection", "show", uuid), cancellationToken);
            if (!show.Succeeded)
            {
                if (want.Count > 0)
                {
                    throw ProcessRunnerExtensions.CommandFailed(show);
                }

                // The profile is gone (the admin deleted it), and LvsDirect's addresses with it.
                changes.Add(new NmProfileChange(uuid, iface, null, [], [], []));
                continue;
            }

            var current = ParseAddresses(show.StandardOutput);
            var add = want.Where(a => !current.Contains(a)).ToList();
            var remove = ours.Where(a => !want.Contains(a) && current.Contains(a)).Order(StringComparer.Ordinal).ToList();
            var keep = want.Where(a => add.Contains(a) || ours.Contains(a)).ToList();
            changes.Add(new NmProfileChange(uuid, iface, w.Name, add, remove, keep));
        }

        return changes;
    }

    /// <summary>`nmcli -g UUID,DEVICE,NAME connection show --active`: "uuid:device:name" a line, ':' and '\' escaped with '\'.</summary>
    internal static Dictionary<string, (string Uuid, string? Name)> ParseActive(string output)
    {
        var result = new Dictionary<string, (string, string?)>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = SplitTerse(line);
            if (fields.Count >= 2 && fields[1].Length > 0)
            {
                result.TryAdd(fields[1], (fields[0], fields.Count > 2 ? fields[2] : null));
            }
        }

        return result;
    }

    /// <summary>`nmcli -g ipv4.addresses,ipv6.addresses connection show UUID`: one line per property, addresses separated by ','.</summary>
    internal static HashSet<string> ParseAddresses(string output) =>
        output.Replace("\\", string.Empty, StringComparison.Ordinal)
            .Split(['\n', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a.Contains('/'))
            .Select(Normalize)
            .ToHashSet(StringComparer.Ordinal);

    private static List<string> SplitTerse(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length)
            {
                field.Append(line[++i]);
            }
            else if (line[i] == ':')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(line[i]);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>The same address the same way, however nmcli or the admin spelled it (2001:DB8::1 and 2001:db8::1).</summary>
    private static string Normalize(string cidr)
    {
        var slash = cidr.IndexOf('/');
        return slash > 0 && IPAddress.TryParse(cidr[..slash], out var address) ? $"{address}{cidr[slash..]}" : cidr;
    }
}

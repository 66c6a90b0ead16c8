using System.Text;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// ifupdown: a file of LvsDirect's own in /etc/network/interfaces.d with one extra `iface` stanza per VIP
/// (ifupdown brings up every stanza of an interface, in order, with it). ifup only reads the folder through a
/// `source` or `source-directory` line of /etc/network/interfaces, which LvsDirect never adds: without one it refuses.
/// The file name has no dot, so `source-directory` (run-parts names) reads it too.
/// </summary>
public static class IfupdownConfig
{
    public const string FileName = "lvsdirect";

    public const string RelativePath = NativeConfigFiles.IfupdownFolder + "/" + FileName;

    public const string Header = "# Written by LvsDirect (Save-LvsVip -Target Ifupdown): the VIPs it manages, brought up with their interface. Regenerate it, do not edit it.";

    public static bool IsOurs(string? text) => text?.StartsWith(Header, StringComparison.Ordinal) == true;

    /// <summary>Whether /etc/network/interfaces reads LvsDirect's file (a `source` glob or `source-directory` that covers it).</summary>
    public static bool ReadsFolder(NativeConfigFiles files) =>
        (files.Text(NativeConfigFiles.IfupdownInterfaces) ?? string.Empty).Split('\n')
            .Select(l => l.Trim().Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries))
            .Any(w => w is [var keyword, var arg] && (keyword, arg.Trim()) is
                ("source", "/etc/network/interfaces.d/*" or "interfaces.d/*" or "/etc/network/interfaces.d/" + FileName)
                or ("source-directory", "/etc/network/interfaces.d" or "/etc/network/interfaces.d/" or "interfaces.d"));

    /// <summary>Whether a stanza of the host's files (not LvsDirect's) configures <paramref name="interfaceName"/>.</summary>
    public static bool Configures(NativeConfigFiles files, string interfaceName) =>
        new[] { files.Text(NativeConfigFiles.IfupdownInterfaces) }
            .Concat(files.In(NativeConfigFiles.IfupdownFolder).Where(f => f.Name != FileName).Select(f => f.Text))
            .OfType<string>()
            .SelectMany(t => t.Split('\n'))
            .Select(l => l.Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Any(w => w.Length >= 2 && w[0] == "iface" && w[1] == interfaceName);

    public static NativePlan Plan(NativeConfigFiles files, IReadOnlyList<NativeVip> vips)
    {
        var existing = files.Text(RelativePath);
        if (existing is not null && !IsOurs(existing))
        {
            throw new LvsException(LvsErrorKind.FileError, $"/{RelativePath} exists and was not written by LvsDirect; it is left as it is. Remove or rename it, then save again.", RelativePath);
        }

        var notes = new List<string>();
        if (vips.Count > 0 && !ReadsFolder(files))
        {
            throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                $"/{NativeConfigFiles.IfupdownInterfaces} has no 'source /etc/network/interfaces.d/*' (or source-directory) line, so ifup would never read /{RelativePath}. Add that line (LvsDirect does not edit the file), then save again.",
                NativeConfigFiles.IfupdownInterfaces);
        }

        foreach (var iface in vips.Select(v => v.InterfaceName).Distinct().Order(StringComparer.Ordinal))
        {
            if (!Configures(files, iface))
            {
                throw new LvsException(LvsErrorKind.NetworkStackNotFound,
                    $"No iface stanza of /{NativeConfigFiles.IfupdownInterfaces} configures {iface}, so ifupdown does not bring it up. Use the -Target that manages {iface} (or -Target Auto), or Export-RcLocal.", iface);
            }

            notes.Add($"{iface}: extra stanzas in /{RelativePath}, brought up with the host's stanza for {iface}.");
        }

        var changes = new List<NativeChange>();
        if (vips.Count > 0)
        {
            changes.Add(new NativeChange(RelativePath, Render(vips), NativeModes.Public) { Vips = vips });
        }
        else if (existing is not null)
        {
            changes.Add(new NativeChange(RelativePath, null, NativeModes.Public));
        }

        return new NativePlan(NativeTarget.Ifupdown, changes, notes);
    }

    /// <summary>IPv6 stanzas skip duplicate address detection: every real server holds the VIP.</summary>
    internal static string Render(IEnumerable<NativeVip> vips)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var v in vips.OrderBy(v => v.InterfaceName, StringComparer.Ordinal).ThenBy(v => v.Address.AddressFamily).ThenBy(v => v.Address.GetAddressBytes(), ByteComparer.Instance))
        {
            text.Append("\niface ").Append(v.InterfaceName).Append(v.IsIPv6 ? " inet6 static\n" : " inet static\n")
                .Append("    address ").Append(v.Cidr).Append('\n');
            if (v.IsIPv6)
            {
                text.Append("    dad-attempts 0\n");
            }
        }

        return text.ToString();
    }

    public static IEnumerable<NativePersistedVip> Read(NativeConfigFiles files)
    {
        var text = files.Text(RelativePath);
        if (!IsOurs(text))
        {
            yield break;
        }

        string? iface = null;
        foreach (var words in text!.Split('\n').Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            if (words is ["iface", var name, ..])
            {
                iface = name;
            }
            else if (words is ["address", var cidr] && iface is not null && NativeAddress.TryParse(cidr, out var address, out var prefix))
            {
                yield return new NativePersistedVip(address, prefix, iface, NativeTarget.Ifupdown, "/" + RelativePath);
            }
        }
    }
}

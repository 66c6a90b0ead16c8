using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Config;

/// <summary>Reads a director configuration file in any supported format, telling the format from the content.</summary>
public static partial class LvsConfigReader
{
    [GeneratedRegex(@"^\s*(virtual_server|virtual_server_group|vrrp_instance|global_defs|vrrp_sync_group|include)\b", RegexOptions.Multiline)]
    private static partial Regex KeepalivedMarker();

    [GeneratedRegex(@"^\s*(virtual\s+\S+\s*\{|network\s*=|serial_no\s*=|service\s*=\s*lvs)", RegexOptions.Multiline)]
    private static partial Regex PiranhaMarker();

    public static IReadOnlyList<LvsVirtualService> Read(string path, LvsConfigFormat format = LvsConfigFormat.Auto)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot read {path}: {ex.Message}", path, ex);
        }

        if (format == LvsConfigFormat.Auto)
        {
            format = Detect(text) ?? throw new LvsException(LvsErrorKind.ParseError,
                $"{path}: cannot tell the format (no keepalived virtual_server, Piranha virtual block or ipvsadm rule); give -Format.", path);
        }

        return format switch
        {
            LvsConfigFormat.Keepalived => KeepalivedConfigParser.ParseFile(path),
            LvsConfigFormat.Piranha => PiranhaConfigParser.Parse(text, path),
            _ => IpvsadmConfigParser.Parse(text, path),
        };
    }

    /// <summary>The format of a configuration's text, or null when it matches none.</summary>
    public static LvsConfigFormat? Detect(string text)
    {
        if (KeepalivedMarker().IsMatch(text))
        {
            return LvsConfigFormat.Keepalived;
        }

        if (PiranhaMarker().IsMatch(text))
        {
            return LvsConfigFormat.Piranha;
        }

        return IpvsadmConfigParser.Looks(text) ? LvsConfigFormat.Ipvsadm : null;
    }
}

using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Config;

/// <summary>
/// What Import-LvsConfig returns for one file: the direct-routing services, each with only the real servers the
/// director forwards to by direct routing, and one warning for everything else (a skipped service, real servers
/// left out, lines the director's program ignores).
/// </summary>
public sealed record LvsConfigResult(IReadOnlyList<LvsVirtualService> Services, IReadOnlyList<string> Warnings);

/// <summary>Reads a director configuration file in any supported format, telling the format from the content.</summary>
public static partial class LvsConfigReader
{
    [GeneratedRegex(@"^\s*(@\^?\S+\s+)?(virtual_server|virtual_server_group|vrrp_instance|global_defs|vrrp_sync_group|include)\b", RegexOptions.Multiline)]
    private static partial Regex KeepalivedMarker();

    [GeneratedRegex(@"^\s*(virtual\s+\S+\s*\{|network\s*=|serial_no\s*=|service\s*=\s*lvs)", RegexOptions.Multiline)]
    private static partial Regex PiranhaMarker();

    /// <summary>Every service of the file as the director's program reads it, and that program's warnings.</summary>
    public static IReadOnlyList<LvsVirtualService> ReadAll(string path, LvsConfigFormat format, LvsConfigOptions options, ICollection<string> warnings)
    {
        if (Directory.Exists(path))
        {
            throw new LvsException(LvsErrorKind.FileError,
                $"{path} is a directory, not a configuration file; give the file (for example /etc/keepalived/keepalived.conf or /etc/sysconfig/ha/lvs.cf).", path);
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot read {path}: {ex.Message}", path, ex);
        }

        var detected = Detect(text);
        if (format == LvsConfigFormat.Auto)
        {
            format = detected ?? throw new LvsException(LvsErrorKind.ParseError,
                $"{path}: cannot tell the format (no keepalived virtual_server, Piranha virtual block or ipvsadm rule); give -Format.", path);
        }
        else if (detected is { } other && other != format)
        {
            throw new LvsException(LvsErrorKind.ParseError,
                $"{path} looks like {Describe(other)}, not {Describe(format)}: give -Format {other} (or leave -Format out to tell it from the content).", path);
        }

        return format switch
        {
            LvsConfigFormat.Keepalived => KeepalivedConfigParser.ParseFile(path, options, warnings),
            LvsConfigFormat.Piranha => PiranhaConfigParser.Parse(text, path, options, warnings),
            _ => IpvsadmConfigParser.Parse(text, path),
        };
    }

    /// <summary>The services a direct-routing real server takes part in, with a warning for each one left out.</summary>
    public static LvsConfigResult Read(string path, LvsConfigFormat format = LvsConfigFormat.Auto, LvsConfigOptions? options = null)
    {
        var warnings = new List<string>();
        var services = ReadAll(path, format, options ?? new LvsConfigOptions(), warnings);
        var direct = new List<LvsVirtualService>(services.Count);
        foreach (var service in services)
        {
            if (Direct(service, warnings) is { } s)
            {
                direct.Add(s);
            }
        }

        return new LvsConfigResult(direct, warnings);
    }

    /// <summary>
    /// The service as a DR real server sees it: only its direct-routing real servers (a sorry server among them),
    /// or null with the warning that says why none of it needs a VIP.
    /// </summary>
    internal static LvsVirtualService? Direct(LvsVirtualService service, ICollection<string> warnings)
    {
        if (service.Address is null)
        {
            warnings.Add(ConfigSyntax.Skipped($"firewall-mark service {service.FirewallMark}", service.SourceFile, service.SourceLine,
                "it has no single VIP; add the VIPs its mark covers with New-LvsVip"));
            return null;
        }

        var direct = service.RealServers.Where(r => r.ForwardingMethod == LvsForwardingMethod.Direct).ToList();
        var others = service.RealServers.Where(r => r.ForwardingMethod != LvsForwardingMethod.Direct).ToList();
        if (direct.Count == 0 && (others.Count > 0 || service.ForwardingMethod != LvsForwardingMethod.Direct))
        {
            var notes = others.Select(r => r.MethodNote).Append(service.MethodNote).Where(n => n is not null).Distinct().ToList();
            var why = notes.Count > 0
                ? $"{string.Join("; ", notes)}, so it runs as {Kind(service.ForwardingMethod)}, whose real servers need no VIP"
                : "only direct-routing real servers need the VIP and ARP suppression";
            var kind = others.Select(r => r.ForwardingMethod).DefaultIfEmpty(service.ForwardingMethod).Distinct().Count() > 1
                ? "non-DR"
                : Kind(others.Count > 0 ? others[0].ForwardingMethod : service.ForwardingMethod);
            warnings.Add(ConfigSyntax.Skipped($"{kind} service {service.Endpoint()}", service.SourceFile, service.SourceLine, why));
            return null;
        }

        if (others.Count > 0)
        {
            var list = string.Join(", ", others.Select(r => $"{r} ({(r.IsSorryServer ? "sorry server, " : string.Empty)}{Kind(r.ForwardingMethod)}{(r.MethodNote is { } n ? ": " + n : string.Empty)})"));
            warnings.Add(ConfigSyntax.Skipped($"real server(s) {list} of service {service.Endpoint()}", service.SourceFile, service.SourceLine,
                "the director forwards to them without direct routing, so they need no VIP"));
        }

        return new LvsVirtualService
        {
            Address = service.Address,
            Zone = service.Zone,
            Port = service.Port,
            Protocol = service.Protocol,
            Scheduler = service.Scheduler,
            ForwardingMethod = LvsForwardingMethod.Direct,
            FirewallMark = service.FirewallMark,
            Name = service.Name,
            SourceFile = service.SourceFile,
            SourceLine = service.SourceLine,
            RealServers = direct,
        };
    }

    private static string Kind(LvsForwardingMethod method) => method switch
    {
        LvsForwardingMethod.Nat => "NAT",
        LvsForwardingMethod.Tunnel => "tunnel",
        _ => "direct-routing",
    };

    private static string Describe(LvsConfigFormat format) => format switch
    {
        LvsConfigFormat.Keepalived => "a keepalived.conf",
        LvsConfigFormat.Piranha => "a Piranha lvs.cf",
        _ => "ipvsadm output",
    };

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

using System.Collections.ObjectModel;
using System.Management.Automation;
using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;

namespace LvsDirect.Commands;

/// <summary>
/// Reads a director's configuration into the virtual services a DR real server must carry: the services the
/// director forwards by direct routing, each with only its direct-routing real servers. Everything else (NAT and
/// tunnel services or real servers, firewall-mark services without an address, lines the director's program
/// ignores) is a warning that names the file and line, so nothing disappears silently.
/// </summary>
[Cmdlet(VerbsData.Import, "LvsConfig")]
[OutputType(typeof(LvsVirtualService))]
public sealed class ImportLvsConfigCommand : LvsCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter]
    public LvsConfigFormat Format { get; set; } = LvsConfigFormat.Auto;

    /// <summary>keepalived's config id (keepalived -i): which conditional lines (@ID, @^ID) the director reads.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigId { get; set; }

    /// <summary>The services database Piranha resolves port names with (the director's /etc/services).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServicesPath { get; set; }

    protected override void ProcessRecord()
    {
        var options = new LvsConfigOptions
        {
            ConfigId = ConfigId,
            ServicesPath = ServicesPath is null ? "/etc/services" : GetUnresolvedProviderPathFromPSPath(ServicesPath),
        };
        foreach (var pattern in Path)
        {
            foreach (var file in Resolve(pattern))
            {
                LvsConfigResult result;
                try
                {
                    result = LvsConfigReader.Read(file, Format, options);
                }
                catch (LvsException ex)
                {
                    // One broken file must not hide the services of the others.
                    WriteLvsError(ex);
                    continue;
                }

                WriteVerbose($"{file}: {result.Services.Count} direct-routing virtual service(s)");
                foreach (var warning in result.Warnings)
                {
                    WriteWarning(warning);
                }

                WriteObject(result.Services, enumerateCollection: true);
            }
        }
    }

    private IEnumerable<string> Resolve(string pattern)
    {
        Collection<string> files;
        try
        {
            files = GetResolvedProviderPathFromPSPath(pattern, out var provider);
            if (provider.Name != "FileSystem")
            {
                WriteLvsError(new LvsException(LvsErrorKind.InvalidArgument, $"{pattern} is not a file system path.", pattern));
                return [];
            }
        }
        catch (ItemNotFoundException ex)
        {
            WriteLvsError(new LvsException(LvsErrorKind.FileError, $"Cannot find {pattern}: {ex.Message}", pattern, ex));
            return [];
        }

        return files;
    }
}

using System.Collections.ObjectModel;
using System.Management.Automation;
using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;

namespace LvsDirect.Commands;

/// <summary>
/// Reads a director's configuration into the virtual services a DR real server must carry. Only direct-routing
/// services with a VIP are returned: NAT and tunnel real servers need no VIP, and a firewall-mark service does
/// not say which VIPs its mark covers. Each skip is a warning so nothing disappears silently.
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

    protected override void ProcessRecord()
    {
        foreach (var pattern in Path)
        {
            foreach (var file in Resolve(pattern))
            {
                IReadOnlyList<LvsVirtualService> services;
                try
                {
                    services = LvsConfigReader.Read(file, Format);
                }
                catch (LvsException ex)
                {
                    // One broken file must not hide the services of the others.
                    WriteLvsError(ex);
                    continue;
                }

                WriteVerbose($"{file}: {services.Count} virtual service(s)");
                foreach (var service in services)
                {
                    if (SkipReason(service) is { } skip)
                    {
                        WriteWarning($"Skipped: {skip.What} in {service.SourceFile} line {service.SourceLine}: {skip.Why}.");
                        continue;
                    }

                    WriteObject(service);
                }
            }
        }
    }

    internal static (string What, string Why)? SkipReason(LvsVirtualService service)
    {
        if (service.ForwardingMethod != LvsForwardingMethod.Direct)
        {
            var kind = service.ForwardingMethod == LvsForwardingMethod.Nat ? "NAT" : "tunnel";
            return ($"{kind} service {service.Endpoint()}", "only direct-routing real servers need the VIP and ARP suppression");
        }

        if (service.FirewallMark is { } mark)
        {
            return ($"firewall-mark service {mark}", "it has no single VIP; add the VIPs its mark covers with New-LvsVip");
        }

        return null;
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

using System.Management.Automation;
using System.Net;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Writes the block LvsDirect owns in rc.local: commands that recreate suppression, then the VIPs, at boot.
/// Every other line of the file is kept; the block is replaced, never appended twice.
/// </summary>
[Cmdlet(VerbsData.Export, "RcLocal", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RcLocalExportResult))]
public sealed class ExportRcLocalCommand : PipedVipCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>RcLocal (the seed's way) or SystemdUnit (a oneshot unit before network-online.target).</summary>
    [Parameter]
    public BootPersistence Target { get; set; } = BootPersistence.RcLocal;

    protected override void EndProcessing() => Guard(() =>
    {
        var unit = Target == BootPersistence.SystemdUnit;
        var path = Path is not null ? GetUnresolvedProviderPathFromPSPath(Path) : unit ? SystemdUnit.DefaultPath : RcLocal.DefaultPath();
        if (Piped.Count == 0)
        {
            DemandRoot();
        }

        var result = WithHostLockWhereRead(Export);
        if (result is not null)
        {
            WriteObject(result);
        }

        RcLocalExportResult? Export()
        {
            PersistenceInput input;
            if (Piped.Count == 0)
            {
                // A host without iptables has no REDIRECT rules to keep.
                var redirects = Runner.Locate("iptables") is null ? [] : new HostInspector(Runner).ReadRedirects(CancellationToken).ToList();
                var state = ReadSuppressionState();
                var live = Core.Planning.VipListing.List(state, all: false, ReadOwnership(unit || Path is null ? null : path)).ToList();
                // The nftables method's VIPs wait for their table where Save-ArpSuppression -Method Nftables keeps it.
                var nftFile = LocalHost.Exists(NftConf.DefaultPath) ? NftConf.DefaultPath : null;
                if (nftFile is null && live.Any(v => v.Method == ArpMethod.Nftables))
                {
                    WriteWarning($"VIPs of the nftables method: only their addresses are recreated here, as {NftConf.DefaultPath} does not exist. Keep their table with Save-ArpSuppression -Method Nftables, which the nftables service loads at boot before the network, then export again so the block loads it before the VIPs.");
                }

                input = PersistenceInput.For(state, live, redirects, nftFile);
            }
            else
            {
                var sysctlMethod = Piped.Any(o => string.Equals(o.Properties["Method"]?.Value?.ToString(), nameof(ArpMethod.Sysctl), StringComparison.OrdinalIgnoreCase));
                var state = ReadState(IsRoot(), includeSysctls: sysctlMethod);
                var dialect = state.Dialect ?? new ArptablesDialect(new HostInspector(Runner).DetectFlavor(CancellationToken));
                var isRedirect = (PSObject o) => o.Properties["Port"] is not null && o.Properties["Protocol"] is not null;
                // The sysctl method's settings, on "all" and the interface facing the director (the default route's).
                var sysctls = sysctlMethod ? ArpSysctls.Persisted(state.Sysctls, state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all") : null;
                input = new PersistenceInput
                {
                    State = state,
                    Boot = BootCommands.Create(
                        dialect,
                        Piped.Where(o => !isRedirect(o) && IsManaged(o, "it is left out of the block; adopt it first (New-LvsVip -Adopt) to have it recreated at boot.")).Select(FromObject).ToList(),
                        sysctls,
                        Piped.Where(isRedirect).Select(RedirectFromObject).ToList()),
                };
            }

            IPersistenceTarget target = unit ? new SystemdUnitTarget(path, manageService: Path is null) : new RcLocalTarget(path);
            var item = target.Plan(input, LocalHost);
            if (!PersistenceRun.Apply(this, Runner, item, unit ? "Export systemd unit" : "Export rc.local", out var enabled, CancellationToken))
            {
                return null;
            }

            return new RcLocalExportResult
            {
                Path = path,
                Target = Target,
                ServiceEnabled = enabled,
                Created = item.Created && item.Changed,
                Changed = item.Changed,
                VipCount = input.Boot.Addresses.Count(),
                RuleCount = input.Boot.ArpRules.Count(),
                RedirectCount = input.Boot.Redirects.Count(),
                Block = item.Lines,
            };
        }
    });

    /// <summary>Reads a REDIRECT rule from an LvsRedirect or any object with VirtualIP, Port and Protocol.</summary>
    private static RedirectRule RedirectFromObject(PSObject o)
    {
        string? Prop(string name) => o.Properties[name]?.Value?.ToString();
        var vip = InputValidation.ParseIPv4(Prop("VirtualIP") ?? Prop("Address"), "virtual IP");
        if (!int.TryParse(Prop("Port"), out var port) || port is < 1 or > 65535)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, $"The input object for {vip} has no valid Port.", vip.ToString());
        }

        if (!Enum.TryParse<RedirectProtocol>(Prop("Protocol"), ignoreCase: true, out var protocol) || !Enum.IsDefined(protocol))
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, $"The input object for {vip} has no Protocol tcp or udp.", vip.ToString());
        }

        return new RedirectRule(vip, protocol, port, RedirectSyntax.RuleLine(vip, protocol, port));
    }

    /// <summary>Reads a VIP from an LvsVip or any object with the same property names (deserialized ones included).</summary>
    internal static RcVip FromObject(PSObject o)
    {
        string? Prop(string name) => o.Properties[name]?.Value?.ToString();
        var addressText = Prop("Address") ?? Prop("VirtualIP")
            ?? throw new LvsException(LvsErrorKind.InvalidArgument, $"The input object '{o}' has no Address property.", o.ToString());
        var (address, prefix) = InputValidation.ParseVipCidr(addressText);
        if (int.TryParse(Prop("PrefixLength"), out var p))
        {
            prefix = p;
        }

        var iface = InputValidation.ValidateInterfaceName(Prop("InterfaceName")
            ?? throw new LvsException(LvsErrorKind.InvalidArgument, $"The input object for {address} has no InterfaceName.", address.ToString()));
        var label = Prop("Label");
        var broadcast = Prop("Broadcast");
        var realIp = Prop("RealIP");
        return new RcVip(
            address,
            prefix,
            iface,
            string.IsNullOrEmpty(label) ? null : InputValidation.ValidateLabel(label, iface),
            string.IsNullOrEmpty(broadcast) ? null : InputValidation.ParseIPv4(broadcast, "broadcast address"),
            string.IsNullOrEmpty(realIp) ? null : InputValidation.ParseIPv4(realIp, "real IP"));
    }
}

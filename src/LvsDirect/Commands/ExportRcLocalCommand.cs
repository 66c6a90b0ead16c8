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
public sealed class ExportRcLocalCommand : LvsCmdlet
{
    private readonly List<PSObject> _input = [];

    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>RcLocal (the seed's way) or SystemdUnit (a oneshot unit before network-online.target).</summary>
    [Parameter]
    public BootPersistence Target { get; set; } = BootPersistence.RcLocal;

    /// <summary>LvsVip objects (from Get-LvsVip, or deserialized from a remote host); live state when none.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            _input.AddRange(InputObject.Where(o => o is not null));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        var unit = Target == BootPersistence.SystemdUnit;
        var path = Path is not null ? GetUnresolvedProviderPathFromPSPath(Path) : unit ? SystemdUnit.DefaultPath : RcLocal.DefaultPath();
        if (_input.Count == 0)
        {
            DemandRoot();
        }

        // The lock keeps the rule set from changing while it is read. With piped VIPs a non-root run reads no
        // rules (it cannot), so it needs no lock, and could not open the root-only lock file anyway.
        var result = _input.Count == 0 || IsRoot() ? WithHostLock(Export) : Export();
        if (result is not null)
        {
            WriteObject(result);
        }

        RcLocalExportResult? Export()
        {
            HostState state;
            ArptablesDialect dialect;
            List<RcVip> vips;
            bool sysctlMethod;
            List<RedirectRule> redirects;
            if (_input.Count == 0)
            {
                // A host without iptables has no REDIRECT rules to keep.
                redirects = ToolLocator.TryResolve("iptables") is null ? [] : new HostInspector(Runner).ReadRedirects(CancellationToken).ToList();
                state = ReadSuppressionState();
                dialect = state.Dialect ?? new ArptablesDialect(ArptablesFlavor.Nft);
                var live = Core.Planning.VipListing.List(state, all: false, ReadOwnership(unit || Path is null ? null : path)).ToList();

                // The nftables method's table is persisted by Save-ArpSuppression -Method Nftables, which
                // nftables.service loads before the network comes up; the boot script only adds the addresses.
                vips = live.Select(v => new RcVip(v.Address, v.PrefixLength, v.InterfaceName, v.Label, v.Broadcast, v.Method == ArpMethod.Nftables ? null : v.RealIP)).ToList();
                if (live.Any(v => v.Method == ArpMethod.Nftables))
                {
                    WriteWarning("VIPs of the nftables method: only their addresses are recreated here. Keep their table with Save-ArpSuppression -Method Nftables, which the nftables service loads at boot before the network.");
                }

                sysctlMethod = live.Any(v => v.Method == ArpMethod.Sysctl);
            }
            else
            {
                var readRules = IsRoot();
                sysctlMethod = _input.Any(o => string.Equals(o.Properties["Method"]?.Value?.ToString(), nameof(ArpMethod.Sysctl), StringComparison.OrdinalIgnoreCase));
                state = ReadState(readRules, includeSysctls: sysctlMethod);
                dialect = state.Dialect ?? new ArptablesDialect(new HostInspector(Runner).DetectFlavor(CancellationToken));
                var isRedirect = (PSObject o) => o.Properties["Port"] is not null && o.Properties["Protocol"] is not null;
                vips = _input.Where(o => !isRedirect(o) && !IsForeign(o)).Select(FromObject).ToList();
                redirects = _input.Where(isRedirect).Select(RedirectFromObject).ToList();
            }

            // The sysctl method's settings, on "all" and the interface facing the director (the default route's).
            var sysctls = sysctlMethod
                ? ArpSysctls.Persisted(state.Sysctls, state.DefaultRoutes.FirstOrDefault()?.InterfaceName ?? "all")
                : null;
            if (unit)
            {
                return WriteUnit(path, SystemdUnit.Render(dialect, vips, sysctls, redirects), vips, redirects);
            }

            var block = RcLocal.RenderBlock(dialect, vips, sysctls, redirects);
            var existing = AtomicFile.ReadAllTextOrNull(path);
            var content = RcLocal.Merge(existing, block);
            if (block.Count > 0 && RcLocal.WhyBlockCannotRun(content, executable: true) is { } problem)
            {
                WriteWarning($"{path}: the LvsDirect block will not run at boot: {problem}.");
            }

            if (!ShouldProcess($"Write the LvsDirect block ({vips.Count} VIP(s)) to {path}:\n{string.Join('\n', block)}", $"Write the LvsDirect block to {path}?", "Export rc.local"))
            {
                return null;
            }

            var changed = AtomicFile.WriteAllText(path, content, (UnixFileMode)Convert.ToInt32("755", 8), ensureExecutable: true);
            WriteVerbose(changed ? $"Wrote {path}" : $"{path} is already up to date");

            return new RcLocalExportResult
            {
                Path = path,
                Target = BootPersistence.RcLocal,
                Created = existing is null && changed,
                Changed = changed,
                VipCount = vips.Count,
                RuleCount = vips.Count(v => v.RealIP is not null) * 2,
                RedirectCount = block.Count == 0 ? 0 : redirects.Count,
                Block = block,
            };
        }
    });

    /// <summary>
    /// Writes (or, with nothing to recreate, removes) LvsDirect's unit. A file of that name LvsDirect did not
    /// write is never touched. At the default path the unit is also enabled, after a daemon-reload. Null when
    /// -WhatIf (or a No to -Confirm) left the unit as it was: there is no result to report.
    /// </summary>
    private RcLocalExportResult? WriteUnit(string path, IReadOnlyList<string> lines, List<RcVip> vips, List<RedirectRule> redirects)
    {
        var existing = AtomicFile.ReadAllTextOrNull(path);
        if (existing is not null && !SystemdUnit.IsOurs(existing))
        {
            throw new LvsException(LvsErrorKind.FileError, $"{path} exists and was not written by LvsDirect; give another -Path.", path);
        }

        var changed = false;
        if (lines.Count == 0)
        {
            if (existing is not null)
            {
                if (!ShouldProcess($"Remove {path}: there is nothing to recreate at boot", $"Remove {path}?", "Export systemd unit"))
                {
                    return null;
                }

                if (Path is null)
                {
                    RunIfPresent(Core.Tools.ToolCommand.Create("systemctl", "disable", SystemdUnit.Name));
                }

                try
                {
                    File.Delete(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{path}': {ex.Message}", path, ex);
                }

                changed = true;
            }
        }
        else
        {
            if (!ShouldProcess($"Write the LvsDirect unit ({vips.Count} VIP(s)) to {path}:\n{string.Join('\n', lines)}", $"Write the LvsDirect unit to {path}?", "Export systemd unit"))
            {
                return null;
            }

            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            changed = AtomicFile.WriteAllText(path, SystemdUnit.Content(lines), (UnixFileMode)Convert.ToInt32("644", 8));
            WriteVerbose(changed ? $"Wrote {path}" : $"{path} is already up to date");
        }

        var enabled = false;
        if (Path is null && lines.Count > 0)
        {
            enabled = RunIfPresent(Core.Tools.ToolCommand.Create("systemctl", "daemon-reload"))
                      && RunIfPresent(Core.Tools.ToolCommand.Create("systemctl", "enable", SystemdUnit.Name));
        }

        return new RcLocalExportResult
        {
            Path = path,
            Target = BootPersistence.SystemdUnit,
            ServiceEnabled = enabled,
            Created = existing is null && changed,
            Changed = changed,
            VipCount = vips.Count,
            RuleCount = vips.Count(v => v.RealIP is not null) * 2,
            RedirectCount = lines.Count == 0 ? 0 : redirects.Count,
            Block = lines,
        };
    }

    /// <summary>Runs a systemctl command after ShouldProcess; warns and returns false where there is no systemctl.</summary>
    private bool RunIfPresent(Core.Tools.ToolCommand command)
    {
        if (ToolLocator.TryResolve(command.Program) is null)
        {
            WriteWarning($"This host has no {command.Program}: the unit is written, but nothing runs it at boot. Use Export-RcLocal without -Target instead.");
            return false;
        }

        if (!ShouldProcess($"{command.ToDisplayString()}", $"Run {command.ToDisplayString()}?", "Export systemd unit"))
        {
            return false;
        }

        Runner.RunChecked(command, CancellationToken.None);
        return true;
    }

    /// <summary>
    /// A VIP object that says it is not LvsDirect's (Get-LvsVip -All lists those too): the block never brings up
    /// what LvsDirect does not manage, so it is left out, with a warning.
    /// </summary>
    private bool IsForeign(PSObject o)
    {
        if (o.Properties["Managed"]?.Value is not (false or PSObject { BaseObject: false }))
        {
            return false;
        }

        WriteWarning($"{o.Properties["Address"]?.Value} is not managed by LvsDirect, so it is left out of the block; adopt it first (New-LvsVip -Adopt) to have it recreated at boot.");
        return true;
    }

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
    private static RcVip FromObject(PSObject o)
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

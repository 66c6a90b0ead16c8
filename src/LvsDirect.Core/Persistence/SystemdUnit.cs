using System.Text;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// The alternative to rc.local: a oneshot unit of LvsDirect's own that recreates the configuration at boot,
/// ordered before network-online.target, so services that wait for the network find the VIPs in place. Each
/// command is its own ExecStart= (argv, no shell), in the same order as the rc.local block: suppression first,
/// then REDIRECT rules, then the addresses. Rule deletions before each add (prefixed "-": their failure is
/// ignored) keep a restart of the unit from duplicating rules; any other failure stops the unit before the
/// addresses, so no VIP comes up without its suppression.
/// </summary>
public static class SystemdUnit
{
    public const string Name = "lvsdirect.service";
    public const string DefaultPath = "/etc/systemd/system/" + Name;
    public const string Header = "# Written by LvsDirect (Export-RcLocal -Target SystemdUnit): do not edit, export again.";

    /// <summary>The unit's lines; none when there is nothing to recreate (the unit is then removed).</summary>
    public static IReadOnlyList<string> Render(
        ArptablesDialect dialect,
        IReadOnlyList<RcVip> vips,
        IReadOnlyList<(SysctlKey Key, int Value)>? sysctls = null,
        IReadOnlyList<RedirectRule>? redirects = null)
    {
        if (vips.Count == 0 && redirects is not { Count: > 0 })
        {
            return [];
        }

        var lines = new List<string>
        {
            Header,
            "[Unit]",
            "Description=LVS-DR real server: ARP suppression, then the VIPs (LvsDirect)",
            "After=network.target",
            "Before=network-online.target",
            string.Empty,
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
        };

        void Exec(string program, IEnumerable<string> args, bool ignoreFailure = false) =>
            lines.Add($"ExecStart={(ignoreFailure ? "-" : string.Empty)}{Program(program)} {string.Join(' ', args)}");

        if (sysctls is { Count: > 0 })
        {
            Exec("sysctl", ["-q", "-w", .. sysctls.Select(s => $"{s.Key.Name}={s.Value}")]);
        }

        var suppressed = vips.Where(v => v.RealIP is not null).ToList();
        if (suppressed.Count > 0)
        {
            // LvsDirect's chains, each entered from the first rule of its built-in chain: a jump left by an earlier
            // start is taken out first, so a restart neither duplicates it nor leaves it behind other rules.
            foreach (var own in new[] { ArptablesDialect.OwnInputChain, ArptablesDialect.OwnOutputChain })
            {
                var builtin = dialect.BuiltinFor(own);
                Exec("arptables", ["-N", own], ignoreFailure: true);
                Exec("arptables", ["-D", builtin, "-j", own], ignoreFailure: true);
                Exec("arptables", ["-I", builtin, "1", "-j", own]);
            }
        }

        foreach (var v in suppressed)
        {
            foreach (var (chain, spec) in new[]
                     {
                         (ArptablesDialect.OwnInputChain, ArptablesSyntax.InputDropSpec(v.Address)),
                         (ArptablesDialect.OwnOutputChain, ArptablesSyntax.OutputMangleSpec(v.Address, v.RealIP!)),
                     })
            {
                Exec("arptables", ["-D", chain, .. spec], ignoreFailure: true);
                Exec("arptables", ["-A", chain, .. spec]);
            }
        }

        foreach (var r in redirects ?? [])
        {
            var spec = RedirectSyntax.Spec(r.VirtualIP, r.Protocol, r.Port);
            Exec("iptables", ["-t", RedirectSyntax.Table, "-D", RedirectSyntax.Chain, .. spec], ignoreFailure: true);
            Exec("iptables", ["-t", RedirectSyntax.Table, "-A", RedirectSyntax.Chain, .. spec]);
        }

        foreach (var v in vips)
        {
            Exec("ip", RcLocal.AddressArguments(v));
        }

        lines.Add(string.Empty);
        lines.Add("[Install]");
        lines.Add("WantedBy=multi-user.target");
        return lines;
    }

    public static string Content(IReadOnlyList<string> lines) => lines.Count == 0 ? string.Empty : string.Join('\n', lines) + "\n";

    /// <summary>True when the file is one LvsDirect wrote, so it may be replaced or removed.</summary>
    public static bool IsOurs(string? content) => content?.StartsWith(Header, StringComparison.Ordinal) == true;

    /// <summary>
    /// The program's absolute path on this host: systemd before version 239 accepts nothing else, and the unit
    /// runs on the host that exported it. Where it is not installed, the usual place.
    /// </summary>
    private static string Program(string name) => ToolLocator.TryResolve(name) ?? "/usr/sbin/" + name;
}

using System.Text;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// The alternative to rc.local: a oneshot unit of LvsDirect's own that recreates the configuration at boot,
/// ordered before network-online.target, so services that wait for the network find the VIPs in place. Each
/// command of <see cref="BootCommands"/> is its own ExecStart= (argv, no shell), in that list's order: a VIP's
/// address right after its suppression. Rule deletions before each add (prefixed "-": their failure is
/// ignored) keep a restart of the unit from duplicating rules; any other failure stops the unit, so no VIP
/// after it comes up, and none without its suppression.
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
        IReadOnlyList<RedirectRule>? redirects = null) =>
        Render(BootCommands.Create(dialect, vips, sysctls, redirects));

    /// <summary>
    /// The unit for <paramref name="boot"/>, one ExecStart per command, in its order. <paramref name="locate"/>
    /// finds the programs on the host the unit is for (<see cref="IPersistenceHost.Locate"/>); without it, or
    /// for a program it does not find, the usual place.
    /// </summary>
    public static IReadOnlyList<string> Render(BootCommands boot, Func<string, string?>? locate = null)
    {
        if (boot.IsEmpty)
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

        // Absolute paths: systemd before version 239 accepts nothing else.
        void Exec(string program, IEnumerable<string> args, bool ignoreFailure = false) =>
            lines.Add($"ExecStart={(ignoreFailure ? "-" : string.Empty)}{locate?.Invoke(program) ?? "/usr/sbin/" + program} {string.Join(' ', args)}");

        foreach (var command in boot.Commands)
        {
            switch (command)
            {
                case BootArpChain c:
                    // A jump left by an earlier start is taken out first, so a restart neither duplicates it nor
                    // leaves it behind other rules.
                    Exec("arptables", ["-N", c.OwnChain], ignoreFailure: true);
                    Exec("arptables", ["-D", c.BuiltinChain, "-j", c.OwnChain], ignoreFailure: true);
                    break;
                case BootArpRule r:
                    Exec("arptables", ["-D", r.Chain, .. r.Spec], ignoreFailure: true);
                    break;
                case BootRedirect r:
                    Exec("iptables", ["-t", RedirectSyntax.Table, "-D", RedirectSyntax.Chain, .. r.Spec], ignoreFailure: true);
                    break;
            }

            Exec(command.Program, command.Arguments);
        }

        lines.Add(string.Empty);
        lines.Add("[Install]");
        lines.Add("WantedBy=multi-user.target");
        return lines;
    }

    /// <summary>The commands of a unit LvsDirect wrote, read back; empty for any other unit (or none).</summary>
    public static BootCommands Read(string? content) => IsOurs(content) ? BootCommands.ReadUnit(content!) : BootCommands.Empty;

    public static string Content(IReadOnlyList<string> lines) => lines.Count == 0 ? string.Empty : string.Join('\n', lines) + "\n";

    /// <summary>True when the file is one LvsDirect wrote, so it may be replaced or removed.</summary>
    public static bool IsOurs(string? content) => content?.StartsWith(Header, StringComparison.Ordinal) == true;
}

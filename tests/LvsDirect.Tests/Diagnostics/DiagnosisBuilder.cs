using System.Net;
using LvsDirect.Core.Diagnostics;
using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Tests.Diagnostics;

/// <summary>
/// A real server described as data for the pure checks: by default the lab's correct rs1 (eth0 192.0.2.11/24,
/// default route via 192.0.2.254, the VIP 203.0.113.100/32 on eth0 with both arptables rules, saved and in rc.local).
/// </summary>
public sealed class DiagnosisBuilder
{
    public const string Vip = "203.0.113.100";
    public const string Rules = "-A INPUT -d 203.0.113.100 -j DROP\n-A OUTPUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11\n";

    private readonly Dictionary<string, (bool Up, string? Mac, List<string> Cidrs)> _nics = new()
    {
        ["lo"] = (true, "00:00:00:00:00:00", ["127.0.0.1/8"]),
        ["eth0"] = (true, "02:00:c0:00:02:0b", ["192.0.2.11/24", "203.0.113.100/32"]),
    };

    private readonly Dictionary<(string, string), int> _sysctls = new();

    public List<DefaultRoute> Routes { get; } = [new("eth0", IPAddress.Parse("192.0.2.254"), 0)];

    public string? LiveRules { get; set; } = Rules;

    public bool ArptablesInstalled { get; set; } = true;

    public string? UnknownReason { get; set; }

    public string? RcLocal { get; set; } = RenderRcLocal((Vip, 32, "eth0", "192.0.2.11"));

    public bool RcLocalExecutable { get; set; } = true;

    public string? SavedRules { get; set; } = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n" + Rules + "COMMIT\n";

    public Dictionary<(string, string), int> BootSysctls { get; } = new();

    public List<ListeningSocket>? Listeners { get; set; }

    /// <summary>LvsDirect's nftables table as read (null: not read).</summary>
    public List<NftArpEntry>? NftEntries { get; set; }

    public bool NftInstalled { get; set; }

    public List<RedirectRule>? Redirects { get; set; }

    public NftPersistence? NftBoot { get; set; }

    public static string RenderRcLocal(params (string Vip, int Prefix, string Dev, string? Rip)[] vips) =>
        Core.Persistence.RcLocal.Merge(null, Core.Persistence.RcLocal.RenderBlock(
            new ArptablesDialect(ArptablesFlavor.Nft),
            vips.Select(v => new RcVip(IPAddress.Parse(v.Vip), v.Prefix, v.Dev, null, null, v.Rip is null ? null : IPAddress.Parse(v.Rip))).ToList()));

    public DiagnosisBuilder Nic(string name, bool up = true, string? mac = "02:00:00:00:00:99", params string[] cidrs)
    {
        _nics[name] = (up, mac, cidrs.ToList());
        return this;
    }

    public DiagnosisBuilder Address(string nic, string cidr)
    {
        _nics[nic].Cidrs.Add(cidr);
        return this;
    }

    public DiagnosisBuilder RemoveAddress(string nic, string cidr)
    {
        _nics[nic].Cidrs.Remove(cidr);
        return this;
    }

    public DiagnosisBuilder Sysctl(string conf, string key, int value)
    {
        _sysctls[(conf, key)] = value;
        return this;
    }

    public RealServerSnapshot Snapshot()
    {
        var index = 0;
        var interfaces = _nics.Select(n => new NetInterface(
            n.Key,
            ++index,
            n.Value.Up,
            n.Value.Up ? (n.Key == "lo" ? "UNKNOWN" : "UP") : "DOWN",
            n.Value.Mac,
            n.Value.Cidrs.Select(c =>
            {
                var (a, p) = c.Contains(':') ? InputValidation.ParseVipCidr(c) : InputValidation.ParseCidr(c);
                return new InterfaceAddress(n.Key, a, p, null, null, IPAddress.IsLoopback(a) ? "host" : "global", false);
            }).ToList())).ToList();
        var rules = LiveRules is null ? null : ArptablesRuleSet.Parse(LiveRules);
        var state = new HostState(interfaces, Routes, rules, rules is null ? null : new ArptablesDialect(ArptablesFlavor.Nft), nftArp: NftEntries);
        return new RealServerSnapshot
        {
            ComputerName = "rs1",
            State = state,
            ArptablesInstalled = ArptablesInstalled,
            NftInstalled = NftInstalled,
            Redirects = Redirects,
            ArpRulesUnknownReason = UnknownReason,
            Sysctls = new InterfaceSysctls(_sysctls),
            Listeners = Listeners,
            Persisted = PersistedConfig.Parse("/etc/rc.local", RcLocal, RcLocalExecutable, "/etc/sysconfig/arptables", SavedRules, BootSysctls) with { Nft = NftBoot },
        };
    }

    public IReadOnlyList<RealServerCheck> Run(DiagnosisRequest? request = null) =>
        RealServerDiagnosis.Run(Snapshot(), request ?? new DiagnosisRequest());

    /// <summary>
    /// The nftables method done right: no arptables rules, the VIP in LvsDirect's table, saved to
    /// /etc/lvsdirect/arp.nft and included from /etc/nftables.conf.
    /// </summary>
    public DiagnosisBuilder NftMethod(bool included = true)
    {
        var entries = new List<NftArpEntry> { new(IPAddress.Parse(Vip), true, IPAddress.Parse("192.0.2.11")) };
        LiveRules = string.Empty;
        SavedRules = null;
        RcLocal = RenderRcLocal((Vip, 32, "eth0", null));
        NftInstalled = true;
        NftEntries = entries;
        NftBoot = NftPersistence.Parse(NftConf.DefaultPath, NftConf.Render(entries),
            [("/etc/nftables.conf", "#!/usr/sbin/nft -f\nflush ruleset\n" + (included ? NftConf.IncludeLine(NftConf.DefaultPath) + "\n" : string.Empty))]);
        return this;
    }

    /// <summary>The sysctl method done right: VIP on lo, arp_ignore=1 and arp_announce=2 on conf/all, no rules.</summary>
    public DiagnosisBuilder SysctlMethod()
    {
        RemoveAddress("eth0", Vip + "/32").Address("lo", Vip + "/32");
        LiveRules = string.Empty;
        SavedRules = null;
        RcLocal = RenderRcLocal((Vip, 32, "lo", null));
        return Sysctl("all", InterfaceSysctls.ArpIgnore, 1).Sysctl("all", InterfaceSysctls.ArpAnnounce, 2);
    }
}

using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Host;

/// <summary>
/// Reads a host's state with as few processes as possible: one `ip -batch` for addresses and routes, one
/// `arptables -L -n` for the rules (see <see cref="ArptablesListing"/> for why not arptables-save), and the
/// flavor once per process, so a no-op run costs what listing costs.
/// </summary>
public sealed class HostInspector
{
    private static readonly Dictionary<string, ArptablesFlavor> FlavorCache = new(StringComparer.Ordinal);

    /// <summary>What arptables-nft links to on Debian, Ubuntu, Fedora and the others that ship iptables 1.8.</summary>
    public const string NftMultiCallBinary = "xtables-nft-multi";

    private readonly IProcessRunner _runner;

    public HostInspector(IProcessRunner runner)
    {
        _runner = runner;
    }

    public static ToolCommand ReadAddressesCommand { get; } =
        new("ip", ["-j", "-batch", "-"], "address show\nroute show default\nroute show table all type unicast\n");

    public static ToolCommand ListArpCommand { get; } = new("arptables", ArptablesListing.ListArguments);

    public static ToolCommand ArptablesVersionCommand { get; } = ToolCommand.Create("arptables", "-V");

    /// <summary>
    /// Reads addresses and routes, the ARP rules when <paramref name="includeArpRules"/>, and the ARP sysctls
    /// when <paramref name="includeSysctls"/> or when lo holds an address that may be a sysctl-method VIP (so a
    /// host without such addresses pays no extra process).
    /// </summary>
    public HostState Read(bool includeArpRules, CancellationToken cancellationToken = default, bool includeSysctls = false, bool includeNft = false)
    {
        var nft = includeNft ? Workers.Start(() => ReadNft(cancellationToken)) : null;
        // The reads are independent: running them side by side makes a read cost the slowest one, not all.
        var arp = includeArpRules ? Workers.Start(() => _runner.RunChecked(ListArpCommand, cancellationToken)) : null;
        var sysctl = includeSysctls ? Workers.Start(() => _runner.RunChecked(ArpSysctls.ReadCommand, cancellationToken)) : null;
        (IReadOnlyList<NetInterface> Interfaces, IReadOnlyList<DefaultRoute> Routes, IReadOnlyList<System.Net.IPAddress> Gateways) parsed;
        try
        {
            parsed = ParseAddresses(_runner.RunChecked(ReadAddressesCommand, cancellationToken).StandardOutput);
        }
        catch
        {
            // The reads beside this one end before the failure is reported: no program outlives the command.
            _ = nft?.Failed();
            _ = arp?.Failed();
            _ = sysctl?.Failed();
            throw;
        }

        var (interfaces, routes, gateways) = parsed;
        var sysctlText = sysctl is not null ? sysctl.Result().StandardOutput
            : interfaces.SelectMany(i => i.Addresses).Any(HostState.IsLoopbackVip) ? _runner.RunChecked(ArpSysctls.ReadCommand, cancellationToken).StandardOutput
            : null;
        var sysctls = sysctlText is null ? null : ArpSysctls.Parse(sysctlText);
        var nftEntries = nft?.Result();
        if (arp is null)
        {
            (_runner as LoggingProcessRunner)?.Flush();
            return new HostState(interfaces, routes, null, null, sysctls, nftEntries) { Gateways = gateways };
        }

        var (rules, dialect) = ParseRules(arp.Result().StandardOutput, () => DetectFlavor(cancellationToken));
        (_runner as LoggingProcessRunner)?.Flush();
        return new HostState(interfaces, routes, rules, dialect, sysctls, nftEntries) { Gateways = gateways };
    }

    /// <summary>LvsDirect's iptables REDIRECT rules (comment lvsdirect) in the nat PREROUTING chain; reading them needs root.</summary>
    public IReadOnlyList<RedirectRule> ReadRedirects(CancellationToken cancellationToken = default) =>
        RedirectSyntax.Parse(_runner.RunChecked(RedirectSyntax.ListCommand, cancellationToken).StandardOutput);

    /// <summary>LvsDirect's nftables ARP table; empty when it does not exist.</summary>
    private IReadOnlyList<NftArpEntry> ReadNft(CancellationToken cancellationToken)
    {
        var result = _runner.Run(NftArpTable.ListCommand, cancellationToken);
        if (NftArpTable.IsMissingTable(result))
        {
            return [];
        }

        if (!result.Succeeded)
        {
            throw ProcessRunnerExtensions.CommandFailed(result);
        }

        return NftArpTable.Parse(result.StandardOutput);
    }

    /// <summary>
    /// Builds a snapshot from the text the tools printed: the output of <see cref="ReadAddressesCommand"/>, of
    /// <see cref="ListArpCommand"/> (null when the rules were not read) and of <c>arptables -V</c>. The
    /// agentless transport reads a remote host this way.
    /// </summary>
    public static HostState Compose(string ipOutput, string? arpListing, string? arptablesVersion)
    {
        var (interfaces, routes, gateways) = ParseAddresses(ipOutput);
        if (arpListing is null)
        {
            return new HostState(interfaces, routes, null, null) { Gateways = gateways };
        }

        var (rules, dialect) = ParseRules(arpListing, () => ArptablesSyntax.DetectFromVersion(arptablesVersion ?? string.Empty));
        return new HostState(interfaces, routes, rules, dialect) { Gateways = gateways };
    }

    /// <summary>The interfaces, default routes and route gateways in the output of <see cref="ReadAddressesCommand"/>.</summary>
    private static (IReadOnlyList<NetInterface> Interfaces, IReadOnlyList<DefaultRoute> Routes, IReadOnlyList<System.Net.IPAddress> Gateways) ParseAddresses(string ipOutput)
    {
        var docs = IpJsonParser.SplitDocuments(ipOutput);
        return (docs.Count > 0 ? IpJsonParser.ParseAddresses(docs[0]) : [],
            docs.Count > 1 ? IpJsonParser.ParseDefaultRoutes(docs[1]) : [],
            docs.Count > 2 ? IpJsonParser.ParseGateways(docs[2]) : []);
    }

    /// <summary>
    /// The rules of an <c>arptables -L -n</c> listing and the dialect to change them in. Only arptables_jf names
    /// its chains IN/OUT; otherwise the listing looks the same for every flavor, and <paramref name="flavor"/>
    /// (asked only then) tells.
    /// </summary>
    private static (ArptablesRuleSet Rules, ArptablesDialect Dialect) ParseRules(string listing, Func<ArptablesFlavor> flavor)
    {
        var rules = ArptablesRuleSet.Parse(ArptablesListing.ToSaveText(listing));
        return (rules, new ArptablesDialect(rules.DetectedFlavor == ArptablesFlavor.Jf ? ArptablesFlavor.Jf : flavor()));
    }

    /// <summary>Which arptables this is, asked of the program once per process and binary.</summary>
    public ArptablesFlavor DetectFlavor(CancellationToken cancellationToken)
    {
        var key = _runner.Locate("arptables") ?? throw ToolLocator.NotFound("arptables");
        try
        {
            key = Path.GetFullPath(new FileInfo(key).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? key);
        }
        catch (IOException)
        {
        }

        // iptables' multi-call binary for nftables has no other mode: a link to it is arptables-nft, and a fresh
        // process saves starting it just to be told so.
        if (Path.GetFileName(key) == NftMultiCallBinary)
        {
            return ArptablesFlavor.Nft;
        }

        lock (FlavorCache)
        {
            if (FlavorCache.TryGetValue(key, out var cached))
            {
                return cached;
            }
        }

        var v = _runner.RunChecked(ArptablesVersionCommand, cancellationToken);
        var flavor = ArptablesSyntax.DetectFromVersion(v.StandardOutput + v.StandardError);
        lock (FlavorCache)
        {
            FlavorCache[key] = flavor;
        }

        return flavor;
    }
}

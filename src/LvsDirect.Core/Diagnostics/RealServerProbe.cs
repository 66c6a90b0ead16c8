using LvsDirect.Core.Host;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Diagnostics;

/// <summary>Where the probe reads a host's boot files; parameters so tests (and odd layouts) can point elsewhere.</summary>
public sealed class ProbeOptions
{
    public required string ComputerName { get; init; }

    /// <summary>False when not root: arptables rules are then reported as unknown, never guessed.</summary>
    public bool ReadArpRules { get; init; } = true;

    public bool ReadListeners { get; init; }

    public string? RcLocalPath { get; init; }

    public string? SavedRulesPath { get; init; }

    /// <summary>LvsDirect's systemd unit, the boot file when rc.local holds no block; null: not looked at.</summary>
    public string? SystemdUnitPath { get; init; }

    public IReadOnlyList<string> SysctlFiles { get; init; } = [];

    public string SysctlRoot { get; init; } = "/proc/sys/net/ipv4/conf";

    /// <summary>The nftables method's file; null: not checked.</summary>
    public string? NftFilePath { get; init; }

    /// <summary>The host's nftables configurations, one of which must include <see cref="NftFilePath"/>.</summary>
    public IReadOnlyList<string> NftConfigPaths { get; init; } = [];

    /// <summary>The root of the network stacks' configuration (Save-LvsVip -Path); null: not read.</summary>
    public string? NetworkConfigRoot { get; init; }
}

/// <summary>Reads a <see cref="RealServerSnapshot"/> with as few processes as the checks allow: ip, arptables, ss.</summary>
public sealed class RealServerProbe
{
    private readonly IProcessRunner _runner;

    public RealServerProbe(IProcessRunner runner)
    {
        _runner = runner;
    }

    public RealServerSnapshot Read(ProbeOptions options, CancellationToken cancellationToken = default)
    {
        // A host that suppresses ARP with sysctls alone may not have arptables at all: then it has no rules.
        var arptablesInstalled = ToolLocator.TryResolve("arptables") is not null;
        var readRules = options.ReadArpRules && arptablesInstalled;
        var listeners = options.ReadListeners
            ? Task.Run(() => _runner.RunChecked(ListeningSocket.ListCommand, cancellationToken), cancellationToken)
            : null;
        // The nftables method's table and the REDIRECT method's rules need root to read, like arptables'.
        var nftInstalled = ToolLocator.TryResolve("nft") is not null;
        var inspector = new HostInspector(_runner);
        var redirects = options.ReadArpRules && ToolLocator.TryResolve("iptables") is not null
            ? Task.Run(() => inspector.ReadRedirects(cancellationToken), cancellationToken)
            : null;
        var state = inspector.Read(readRules, cancellationToken, includeNft: options.ReadArpRules && nftInstalled);
        var sockets = listeners is null ? null : ListeningSocket.ParseSs(listeners.GetAwaiter().GetResult().StandardOutput);
        (_runner as LoggingProcessRunner)?.Flush();
        return new RealServerSnapshot
        {
            ComputerName = options.ComputerName,
            State = state,
            ArptablesInstalled = arptablesInstalled,
            NftInstalled = nftInstalled,
            Redirects = redirects?.GetAwaiter().GetResult(),
            ArpRulesUnknownReason = arptablesInstalled && !options.ReadArpRules ? "reading them needs root" : null,
            Sysctls = InterfaceSysctls.Read(options.SysctlRoot),
            Listeners = sockets,
            Persisted = WithUnit(PersistedConfig.Read(options.RcLocalPath, options.SavedRulesPath, options.SysctlFiles), options.SystemdUnitPath)
                with
                {
                    Nft = NftPersistence.Read(options.NftFilePath, options.NftConfigPaths),
                    NativeVips = Persistence.Native.NativePersistence.ReadPersisted(options.NetworkConfigRoot, state.Interfaces.ToDictionary(i => i.Name, i => i.MacAddress)),
                },
        };
    }

    private static PersistedConfig WithUnit(PersistedConfig rc, string? unitPath)
    {
        if (unitPath is null)
        {
            return rc;
        }

        try
        {
            return PersistedConfig.WithSystemdUnit(rc, unitPath, Persistence.AtomicFile.ReadAllTextOrNull(unitPath));
        }
        catch (Errors.LvsException ex) when (ex.Kind == Errors.LvsErrorKind.FileError)
        {
            return rc;
        }
    }
}

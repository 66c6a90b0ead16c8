using System.Net;
using System.Net.Sockets;
using LvsDirect.Core.Model;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>The network stacks whose own configuration Save-LvsVip writes the VIPs into.</summary>
public enum NativeTarget
{
    /// <summary>The stack that manages the VIP's interface, found by <see cref="NativeDetector"/>.</summary>
    Auto,
    Networkd,
    Netplan,
    NetworkManager,
    Ifupdown,
}

/// <summary>A managed VIP as a network stack brings it up: address, interface, and how its ARP is suppressed.</summary>
public sealed record NativeVip(IPAddress Address, int PrefixLength, string InterfaceName, string? Label = null, ArpMethod? Method = null)
{
    public string Cidr => $"{Address}/{PrefixLength}";

    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;
}

/// <summary>One file LvsDirect writes (<see cref="Content"/>) or removes (null) in the stack's configuration.</summary>
public sealed record NativeChange(string Path, string? Content, UnixFileMode Mode)
{
    /// <summary>The VIPs the written file brings up.</summary>
    public IReadOnlyList<NativeVip> Vips { get; init; } = [];

    public bool Removes => Content is null;
}

/// <summary>
/// What Save-LvsVip does for one stack: the files of its own to write or remove, the VIPs each file brings up,
/// and why each interface went to this file (for -Verbose and the result). Pure data, made from the files read.
/// </summary>
public sealed record NativePlan(NativeTarget Target, IReadOnlyList<NativeChange> Changes, IReadOnlyList<string> Notes)
{
    /// <summary>VIPs kept by a profile the stack itself changes (NetworkManager's active connection), not by a file of LvsDirect's.</summary>
    public IReadOnlyList<NativeVip> ProfileVips { get; init; } = [];

    public IReadOnlyList<NativeChange> Writes => Changes.Where(c => !c.Removes).ToList();

    public IReadOnlyList<NativeChange> Removals => Changes.Where(c => c.Removes).ToList();
}

/// <summary>A VIP that one of LvsDirect's native files brings up at boot, as read back from the file.</summary>
public sealed record NativePersistedVip(IPAddress Address, int PrefixLength, string InterfaceName, NativeTarget Target, string FilePath);

/// <summary>Modes of the files: netplan and NetworkManager refuse (or warn about) configuration others can read.</summary>
internal static class NativeModes
{
    public const UnixFileMode Public = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
}

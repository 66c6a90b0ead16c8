using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>The outcome of one diagnostic check.</summary>
public enum CheckStatus
{
    Pass,
    Warning,
    Fail,
}

/// <summary>One check of a real server (output of Test-LvsRealServer).</summary>
public sealed class RealServerCheck
{
    /// <summary>The host the check ran on; a remote run keeps the name of the host it ran on.</summary>
    public required string ComputerName { get; init; }

    /// <summary>What was checked, a stable name such as ArpSuppression (see <see cref="Diagnostics.CheckNames"/>).</summary>
    public required string Check { get; init; }

    /// <summary>What the check is about: a VIP, VIP:port/protocol, an interface, a file or the host.</summary>
    public required string Target { get; init; }

    public required CheckStatus Status { get; init; }

    /// <summary>What was found, in words.</summary>
    public required string Detail { get; init; }

    /// <summary>The command that fixes a failure or warning (an LvsDirect cmdlet where there is one); null when passed.</summary>
    public string? Remediation { get; init; }

    public override string ToString() => $"{Status} {Check} {Target}";
}

/// <summary>One host that answered ARP for a VIP (output of Test-LvsArp).</summary>
public sealed class ArpResponder
{
    public required IPAddress VirtualIP { get; init; }

    /// <summary>The MAC address the reply came from, lower case.</summary>
    public required string MacAddress { get; init; }

    /// <summary>
    /// Other addresses this MAC is known to own, from the neighbour table of the asking host (best effort: empty
    /// when the table has no other entry for the MAC).
    /// </summary>
    public IReadOnlyList<IPAddress> OwnerAddress { get; init; } = [];

    public required string InterfaceName { get; init; }

    /// <summary>How many replies came from this MAC.</summary>
    public int Replies { get; init; }

    /// <summary>How many distinct MACs answered for the VIP; more than one is the ARP problem.</summary>
    public int ResponderCount { get; init; }

    /// <summary>
    /// With -DirectorAddress or -DirectorMacAddress: Pass for the director's reply, Fail for any other responder.
    /// Without them: Pass when this is the only responder, Fail when others answered too.
    /// </summary>
    public CheckStatus Status { get; init; }

    /// <summary>True when this MAC is the director's, false when it is not; null when the director was not named.</summary>
    public bool? IsDirector { get; init; }

    /// <summary>Why this reply passes or fails, naming the host that sent it where it is known.</summary>
    public string Detail { get; init; } = string.Empty;

    /// <summary>What to run, and where, when the reply fails; null when it passes.</summary>
    public string? Remediation { get; init; }

    public override string ToString() => $"{VirtualIP} at {MacAddress}";
}

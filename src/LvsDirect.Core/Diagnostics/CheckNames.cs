namespace LvsDirect.Core.Diagnostics;

/// <summary>The stable names in <see cref="Model.RealServerCheck.Check"/>, for filtering in scripts.</summary>
public static class CheckNames
{
    public const string VipPresent = "VipPresent";
    public const string InterfaceUp = "InterfaceUp";
    public const string VipPrefix = "VipPrefix";
    public const string ArpSuppression = "ArpSuppression";
    public const string ArpAnnounce = "ArpAnnounce";
    public const string ArpSysctlScope = "ArpSysctlScope";
    public const string RcLocal = "RcLocal";
    public const string VipPersisted = "VipPersisted";
    public const string SuppressionPersisted = "SuppressionPersisted";
    public const string DefaultGateway = "DefaultGateway";
    public const string ReversePathFilter = "ReversePathFilter";
    public const string Listener = "Listener";

    /// <summary>An IPv6 VIP is on lo only, where neighbour discovery never answers for it.</summary>
    public const string NeighbourDiscovery = "NeighbourDiscovery";

    /// <summary>A remote host could not be reached or read: none of its checks could run.</summary>
    public const string Connection = "Connection";
}

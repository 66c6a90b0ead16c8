using System.Net;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// Where Set-LvsRealServer -Persist keeps the VIPs: a network stack's own configuration (Save-LvsVip), or the
/// boot files (rc.local, LvsDirect's systemd unit). The ARP suppression is saved first either way.
/// </summary>
public enum PersistTarget
{
    /// <summary>The stack that manages the VIPs' interfaces when one is found, else rc.local (today's behaviour).</summary>
    Auto,
    RcLocal,
    Systemd,
    Networkd,
    Netplan,
    NetworkManager,
    Ifupdown,
}

public static class PersistTargets
{
    /// <summary>The Save-LvsVip target of a native choice; null for the boot files and for Auto.</summary>
    public static NativeTarget? Native(PersistTarget target) => target switch
    {
        PersistTarget.Networkd => NativeTarget.Networkd,
        PersistTarget.Netplan => NativeTarget.Netplan,
        PersistTarget.NetworkManager => NativeTarget.NetworkManager,
        PersistTarget.Ifupdown => NativeTarget.Ifupdown,
        _ => null,
    };

    /// <summary>
    /// Auto: native (Save-LvsVip -Target Auto) when a stack manages every one of <paramref name="interfaces"/> and
    /// Save-LvsVip can keep VIPs there (not NetworkManager's profile of eth0, not a catch-all .network): asked of
    /// the planner itself with a placeholder VIP, so the two never disagree.
    /// </summary>
    public static bool StackManagesAll(NativeConfigFiles files, IEnumerable<string> interfaces) =>
        interfaces.All(i =>
        {
            if (NativeDetector.Detect(files, i) is not { } found)
            {
                return false;
            }

            try
            {
                return NativeDetector.Plan(found.Target, files, [new NativeVip(IPAddress.Any, 32, i)]).ProfileVips.Count == 0;
            }
            catch (LvsException)
            {
                return false;
            }
        });
}

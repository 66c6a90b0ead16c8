using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The boot file (rc.local's LvsDirect block or its unit) brings the VIP back exactly as it is live; drift either way fails.</summary>
public sealed class VipPersistedCheck : VipCheck
{
    public override string Name => CheckNames.VipPersisted;

    public override HostReads Reads => HostReads.Addresses | HostReads.BootFiles;

    protected override bool AppliesTo(VipSubject vip) => true;

    protected override RealServerCheck? Check(CheckContext d, VipSubject v)
    {
        var p = d.Persisted;
        var vip = v.Vip;
        var live = v.Live;
        var persisted = v.Persisted;
        var file = p.RcLocalPath ?? "rc.local";
        if (persisted is null && p.NativeVips.Any(n => n.Address.Equals(vip)))
        {
            return Native(d, v);
        }

        if (p.RcLocalPath is not null && p.Unreadable.Contains(p.RcLocalPath))
        {
            return d.Result(Name, v.Target, CheckStatus.Warning, $"{file} cannot be read, so whether it brings {vip} back at boot is unknown.",
                "Run Test-LvsRealServer as root");
        }

        if (persisted is not null && p.BlockProblem is { } problem)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                $"{file} would add {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, but its LvsDirect block cannot run: {problem}.",
                CheckContext.BlockRemedy(p));
        }

        if (live.Count > 0 && persisted is null)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                p.HasBlock
                    ? $"{vip} is live but not in the LvsDirect block of {file}: it is lost at the next reboot."
                    : p.NativeVips.Count > 0
                        ? $"{vip} is live but not in LvsDirect's network configuration ({string.Join(", ", p.NativeVips.Select(n => n.FilePath).Distinct())}) nor in {file}: it is lost at the next reboot."
                        : $"{vip} is live but {file} {(p.RcLocalExists ? "has no LvsDirect block" : "does not exist")}: it is lost at the next reboot.",
                !p.HasBlock && p.NativeVips.Count > 0 ? $"Save-LvsVip -Target {p.NativeVips[0].Target}" : "Export-RcLocal");
        }

        if (live.Count == 0 && persisted is not null)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                $"{file} adds {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, but it is not configured now: the next reboot changes this host.",
                $"New-LvsVip -Address {vip} -InterfaceName {persisted.InterfaceName} (to add it now), or Export-RcLocal (to drop it from {file})");
        }

        if (persisted is null)
        {
            return null;
        }

        var same = live.Any(a => a.PrefixLength == persisted.PrefixLength && a.InterfaceName == persisted.InterfaceName);
        return d.Result(Name, v.Target, same ? CheckStatus.Pass : CheckStatus.Fail,
            same
                ? $"{file} adds {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, as it is now."
                : $"{file} adds {persisted.Address}/{persisted.PrefixLength} dev {persisted.InterfaceName} at boot, but now it is {string.Join(", ", live.Select(a => $"{a.Cidr} dev {a.InterfaceName}"))}.",
            same ? null : "Export-RcLocal");
    }

    /// <summary>A VIP the network stack's own configuration brings up (Save-LvsVip): drift both ways, as for rc.local.</summary>
    private RealServerCheck Native(CheckContext d, VipSubject v)
    {
        var native = d.Persisted.NativeVips.Where(n => n.Address.Equals(v.Vip)).ToList();
        var where = string.Join(", ", native.Select(n => $"{n.FilePath} ({n.Target}) adds {n.Address}/{n.PrefixLength} dev {n.InterfaceName}"));
        var save = $"Save-LvsVip -Target {native[0].Target}";
        if (v.Live.Count == 0)
        {
            return d.Result(Name, v.Target, CheckStatus.Fail,
                $"{where} at boot, but it is not configured now: the next reboot (or restart of the network stack) changes this host.",
                $"New-LvsVip -Address {v.Vip} -InterfaceName {native[0].InterfaceName} (to add it now), or {save} (to drop it from the file)");
        }

        var same = native.Count == 1 && v.Live.Any(a => a.PrefixLength == native[0].PrefixLength && a.InterfaceName == native[0].InterfaceName);
        return d.Result(Name, v.Target, same ? CheckStatus.Pass : CheckStatus.Fail,
            same ? $"{where} at boot, as it is now." : $"{where} at boot, but now it is {string.Join(", ", v.Live.Select(a => $"{a.Cidr} dev {a.InterfaceName}"))}.",
            same ? null : save);
    }
}

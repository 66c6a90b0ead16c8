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
                    : $"{vip} is live but {file} {(p.RcLocalExists ? "has no LvsDirect block" : "does not exist")}: it is lost at the next reboot.",
                "Export-RcLocal");
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
}

using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The VIP is a host route (/32, /128): a wider prefix routes a whole subnet through the interface (or lo).</summary>
public sealed class VipPrefixCheck : IRealServerCheck
{
    public string Name => CheckNames.VipPrefix;

    public HostReads Reads => HostReads.Addresses;

    public IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject)
    {
        if (subject is not VipSubject v)
        {
            yield break;
        }

        var vip = v.Vip;
        if (v.Kind == VipKind.IPv6)
        {
            foreach (var a in v.Live.Where(a => a.PrefixLength != 128))
            {
                yield return context.Result(Name, v.Target, CheckStatus.Warning, $"{a.Cidr} on {a.InterfaceName} is wider than /128: the host gets a route for the whole prefix.",
                    $"Remove-LvsVip -Address {vip} -InterfaceName {a.InterfaceName}; New-LvsVip -Address {vip}");
            }

            yield break;
        }

        if (v.Kind != VipKind.Address)
        {
            yield break;
        }

        foreach (var a in v.Live)
        {
            if (a.PrefixLength == 32)
            {
                yield return context.Result(Name, v.Target, CheckStatus.Pass, $"{vip} is a /32 on {a.InterfaceName}.");
                continue;
            }

            var onLo = a.InterfaceName == "lo";
            yield return context.Result(Name, v.Target, onLo ? CheckStatus.Fail : CheckStatus.Warning,
                onLo
                    ? $"{a.Cidr} on lo makes the whole subnet local to this host: it stops reaching any other host in it."
                    : $"{a.Cidr} on {a.InterfaceName} is wider than /32: the host gets a route for the whole subnet through {a.InterfaceName}.",
                $"ip addr del {a.Cidr} dev {a.InterfaceName}; New-LvsVip -Address {vip}/32 -InterfaceName {a.InterfaceName}");
        }
    }
}

using LvsDirect.Core.Model;
using LvsDirect.Core.Parsing;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The VIP is on an interface (or, for the REDIRECT method, on none by design); a host with no VIP at all fails.</summary>
public sealed class VipPresentCheck : IRealServerCheck
{
    public string Name => CheckNames.VipPresent;

    public HostReads Reads => HostReads.Addresses | HostReads.Redirects | HostReads.BootFiles;

    public IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject)
    {
        if (subject is HostSubject && context.Vips.Count == 0)
        {
            yield return context.Result(Name, "(none)", CheckStatus.Fail,
                "No VIP found: no address has ARP suppression, sits on lo or is a /32 beside an interface's own address, and neither rc.local's LvsDirect block nor the saved arptables rules name one.",
                "New-LvsVip -Address <VIP>, or give -VirtualIP");
        }

        if (subject is not VipSubject v)
        {
            yield break;
        }

        var vip = v.Vip;
        if (v.Kind == VipKind.Redirect)
        {
            var ports = string.Join(", ", v.Redirects.Select(r => $"{RedirectSyntax.ProtocolName(r.Protocol)}/{r.Port}"));
            yield return context.Result(Name, v.Target, CheckStatus.Pass,
                $"{vip} is on no interface, by design: the iptables REDIRECT method (rules with the comment lvsdirect) hands {vip} {ports} to local listeners.");
        }
        else if (v.Live.Count == 0)
        {
            var iface = v.Kind == VipKind.IPv6 || v.Persisted is null ? string.Empty : $" -InterfaceName {v.Persisted.InterfaceName}";
            yield return context.Result(Name, v.Target, CheckStatus.Fail,
                $"{vip} is on no interface: packets the director forwards for it are dropped.",
                $"New-LvsVip -Address {vip}{iface}");
        }
        else
        {
            yield return context.Result(Name, v.Target, CheckStatus.Pass, $"{vip} is on {string.Join(", ", v.Live.Select(a => $"{a.InterfaceName} as {a.Cidr}"))}.");
        }
    }
}

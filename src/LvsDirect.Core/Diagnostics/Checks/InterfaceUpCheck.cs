using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The interface that holds an IPv4 VIP is up, and so is the one facing the director when the VIP is on lo.</summary>
public sealed class InterfaceUpCheck : IRealServerCheck
{
    public string Name => CheckNames.InterfaceUp;

    public HostReads Reads => HostReads.Addresses;

    public IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject)
    {
        if (subject is not VipSubject { Kind: VipKind.Address } v)
        {
            yield break;
        }

        // A VIP on lo is reached through the interface that faces the director, so that one must be up too.
        var carriers = v.Live.Select(a => (Name: a.InterfaceName, Role: "holds")).ToList();
        if (v.Live.Count > 0 && v.Live.All(a => a.InterfaceName == "lo") && (context.DirectorInterface ?? context.DefaultInterface) is { } facing)
        {
            carriers.Add((facing, "carries the director's packets for"));
        }

        foreach (var (name, role) in carriers.Distinct())
        {
            var nic = context.Snapshot.State.FindInterface(name);
            var up = nic is not null && nic.IsUp && nic.OperState is not ("DOWN" or "LOWERLAYERDOWN" or "NOTPRESENT");
            yield return context.Result(Name, name, up ? CheckStatus.Pass : CheckStatus.Fail,
                up ? $"{name}, which {role} {v.Vip}, is up ({nic!.OperState})." : $"{name}, which {role} {v.Vip}, is down ({nic?.OperState ?? "missing"}): nothing reaches the VIP.",
                up ? null : $"ip link set dev {name} up");
        }
    }
}

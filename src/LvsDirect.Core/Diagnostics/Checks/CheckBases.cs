using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>A check with at most one result per VIP it applies to.</summary>
public abstract class VipCheck : IRealServerCheck
{
    public abstract string Name { get; }

    public abstract HostReads Reads { get; }

    public IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject) =>
        subject is VipSubject v && AppliesTo(v) && Check(context, v) is { } result ? [result] : [];

    protected abstract bool AppliesTo(VipSubject vip);

    /// <summary>The result for <paramref name="vip"/>; null when there is nothing to say about it.</summary>
    protected abstract RealServerCheck? Check(CheckContext context, VipSubject vip);
}

/// <summary>A check with at most one result for the host as a whole.</summary>
public abstract class HostCheck : IRealServerCheck
{
    public abstract string Name { get; }

    public abstract HostReads Reads { get; }

    public IEnumerable<RealServerCheck> Run(CheckContext context, CheckSubject subject) =>
        subject is HostSubject && Check(context) is { } result ? [result] : [];

    protected abstract RealServerCheck? Check(CheckContext context);
}

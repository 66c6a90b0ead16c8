using System.Net;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Planning;

/// <summary>
/// The planner's refusal of one VIP: an error with a stable kind, and the VIP it refuses as an address, so
/// callers drop exactly that VIP by comparing addresses (never by the text of an error's target).
/// </summary>
public sealed class PlanRefusal : LvsException
{
    public PlanRefusal(LvsErrorKind kind, IPAddress vip, string message)
        : base(kind, message, vip.ToString())
    {
        Vip = vip;
    }

    /// <summary>The VIP the plan leaves exactly as it is.</summary>
    public IPAddress Vip { get; }
}

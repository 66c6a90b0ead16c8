using System.Management.Automation;

namespace LvsDirect;

/// <summary>
/// A cmdlet that works on the VIPs piped to it (LvsVip objects from Get-LvsVip, or deserialized from a remote
/// host) or, when none are, on the live managed VIPs, which it reads as root under the host lock.
/// </summary>
public abstract class PipedVipCmdlet : LvsCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Everything piped, collected for one batch in EndProcessing.</summary>
    protected List<PSObject> Piped { get; } = [];

    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            Piped.AddRange(InputObject.Where(o => o is not null));
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> under the host lock, which keeps the rule set from changing while it is read.
    /// With piped VIPs a non-root run reads no rules (it cannot), so it needs no lock, and could not open the
    /// root-only lock file anyway.
    /// </summary>
    protected T WithHostLockWhereRead<T>(Func<T> body) => Piped.Count == 0 || IsRoot() ? WithHostLock(body) : body();

    /// <summary>Whether a piped VIP is LvsDirect's; one that is not is left out, with a warning ending in <paramref name="otherwise"/>.</summary>
    protected bool IsManaged(PSObject o, string otherwise)
    {
        if (o.Properties["Managed"]?.Value is not (false or PSObject { BaseObject: false }))
        {
            return true;
        }

        WriteWarning($"{o.Properties["Address"]?.Value} is not managed by LvsDirect, so {otherwise}");
        return false;
    }
}

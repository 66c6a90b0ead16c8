using System.Runtime.InteropServices;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Host;

/// <summary>Root checks, done before anything runs so a non-root user gets one clear error, not a tool's.</summary>
public static partial class Privileges
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    public static bool IsRoot => GetEffectiveUserId() == 0;

    public static void DemandRoot(string what)
    {
        if (!IsRoot)
        {
            throw new LvsException(LvsErrorKind.NotRoot,
                $"{what} needs root: arptables and ip change kernel state only for root (or a process with CAP_NET_ADMIN). Run pwsh with sudo, or as root.",
                what);
        }
    }
}

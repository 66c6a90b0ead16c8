using System.Management.Automation;

namespace LvsDirect.Remoting;

/// <summary>What a cmdlet that drives other hosts needs to know about its own invocation.</summary>
internal static class RemoteCmdlet
{
    public static bool IsWhatIf(PSCmdlet cmdlet) =>
        cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)
            ? w is SwitchParameter { IsPresent: true } || w is true
            : cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference") is SwitchParameter { IsPresent: true } or true;
}

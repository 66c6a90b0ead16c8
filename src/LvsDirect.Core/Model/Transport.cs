namespace LvsDirect.Core.Model;

/// <summary>How a cmdlet reaches real servers given with -HostName.</summary>
public enum LvsTransport
{
    /// <summary>PowerShell remoting over SSH: the server runs pwsh (the SSH `powershell` subsystem) and LvsDirect.</summary>
    PowerShell,

    /// <summary>
    /// Agentless: one OpenSSH session per server running a fixed sh script; the server needs only sshd, sh,
    /// coreutils, flock and its network tools. Everything is planned here.
    /// </summary>
    Ssh,
}

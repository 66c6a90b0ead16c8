namespace LvsDirect.Core.Errors;

/// <summary>What went wrong, independent of PowerShell; the cmdlet layer maps it to an ErrorCategory.</summary>
public enum LvsErrorKind
{
    NotRoot,
    ProgramNotFound,
    InvalidAddress,
    InvalidPrefix,
    UnknownInterface,
    CommandFailed,
    LockTimeout,
    InvalidArgument,
    FileError,
    ParseError,
    VipStillConfigured,
    NoArpReply,
    HostUnreachable,
    AuthenticationFailed,
    HostKeyUnknown,
    RemoteFailed,

    /// <summary>
    /// A cmdlet run on a host over PowerShell remoting failed with an error that carries no LvsDirect id (the
    /// remote pwsh or module broke, or a file could not be copied there); the message is the remote error's.
    /// </summary>
    RemoteCommandFailed,
    /// <summary>An existing VIP that LvsDirect did not create was named without -Adopt.</summary>
    NotManaged,
}

/// <summary>
/// The one exception type Core throws for expected failures. <see cref="ErrorId"/> is stable and becomes the
/// first part of the ErrorRecord's FullyQualifiedErrorId, so scripts and Pester can match on it.
/// </summary>
public class LvsException : Exception
{
    public LvsException(LvsErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Target = target;
    }

    public LvsErrorKind Kind { get; }

    /// <summary>The offending value (an address, an interface, a program name, a command line).</summary>
    public object? Target { get; }

    public string ErrorId => Kind.ToString();
}

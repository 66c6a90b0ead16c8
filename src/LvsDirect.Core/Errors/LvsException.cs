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

    /// <summary>
    /// A host failed in a way that carries no LvsDirect id, on any transport: the agentless session broke off or
    /// answered something unexpected, or a cmdlet run there over PowerShell remoting failed with a PowerShell
    /// error (the remote pwsh or module broke, a file could not be copied there); the message is the host's.
    /// </summary>
    RemoteFailed,

    /// <summary>An existing VIP that LvsDirect did not create was named without -Adopt.</summary>
    NotManaged,
    /// <summary>The address can be a VIP on no host: unspecified, broadcast, multicast, loopback, link-local, reserved.</summary>
    InvalidVip,

    /// <summary>The address is this host's own (an interface's subnet address or primary address), not a VIP.</summary>
    HostAddress,

    /// <summary>The address is a gateway of one of this host's routes.</summary>
    GatewayAddress,

    /// <summary>-RealIP is not an address of this host on the VIP's facing interface.</summary>
    InvalidRealIP,

    /// <summary>One call asks for the same VIP twice, in two different ways.</summary>
    ConflictingRequest,

    /// <summary>The VIP is already on another interface than the one asked for.</summary>
    VipOnOtherInterface,

    /// <summary>Save-LvsVip: the chosen network stack (or, with Auto, every stack) does not manage the VIP's interface.</summary>
    NetworkStackNotFound,

    /// <summary>Save-LvsVip: a VIP would come up at boot before its ARP suppression, which is not persisted.</summary>
    SuppressionNotPersisted,
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

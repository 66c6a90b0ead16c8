namespace LvsDirect.Core.Persistence.Native;

public enum NativeFileAction
{
    Written,
    Removed,
    Unchanged,
}

/// <summary>One file Save-LvsVip wrote, removed or found up to date, in the configuration of one stack.</summary>
public sealed class NativeSaveResult
{
    public required NativeTarget Target { get; init; }

    public required string Path { get; init; }

    public required NativeFileAction Action { get; init; }

    /// <summary>The VIPs the file brings up (none for a removed file).</summary>
    public required IReadOnlyList<string> VirtualIP { get; init; }

    /// <summary>Why this stack and this file: which file configures the interface, or what Auto detected.</summary>
    public required IReadOnlyList<string> Reason { get; init; }

    public bool Changed => Action != NativeFileAction.Unchanged;
}

namespace LvsDirect.Core.Model;

/// <summary>What Install-LvsDirect found or did on one host.</summary>
public enum ModuleInstallStatus
{
    /// <summary>The module was copied to the host.</summary>
    Installed,

    /// <summary>The host already had this version (this very build, when LvsDirect put it there).</summary>
    AlreadyPresent,

    /// <summary>The host could not be reached or written; Error says why.</summary>
    Failed,
}

/// <summary>Output of Install-LvsDirect: one per host.</summary>
public sealed class ModuleInstallResult
{
    public required string ComputerName { get; init; }

    public ModuleInstallStatus Status { get; init; }

    public required string Version { get; init; }

    /// <summary>The module's folder on the host.</summary>
    public string? Path { get; init; }

    public TimeSpan Duration { get; init; }

    public string? Error { get; init; }

    public string? ErrorId { get; init; }

    public override string ToString() => $"{ComputerName}: {Status}";
}

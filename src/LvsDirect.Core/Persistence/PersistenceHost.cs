using LvsDirect.Core.Agentless;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// What a persistence plan needs to know of the host it persists: its files (text, mode) and its programs.
/// The plan reads through this and nothing else, so the same plan is made for this host and for one over ssh.
/// </summary>
public interface IPersistenceHost
{
    /// <summary>The file's text; null when it does not exist. A file that exists but cannot be read is a FileError.</summary>
    string? ReadText(string path);

    /// <summary>Whether the path exists (a file or a folder).</summary>
    bool Exists(string path);

    /// <summary>Whether the file has every execute bit (rc-local.service runs rc.local only when it is executable).</summary>
    bool IsExecutable(string path);

    bool HasProgram(string name);

    /// <summary>The program's absolute path on the host; null when it is not known there (the caller then names the usual place).</summary>
    string? Locate(string name);
}

/// <summary>
/// This host: its disk, and its programs as <paramref name="runner"/> finds them, so a runner standing in for the
/// host (a test's fake) also answers which programs it has.
/// </summary>
public sealed class LocalPersistenceHost(IProcessRunner runner) : IPersistenceHost
{
    private const UnixFileMode ExecuteBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public string? ReadText(string path) => AtomicFile.ReadAllTextOrNull(path);

    public bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public bool IsExecutable(string path) => File.Exists(path) && (File.GetUnixFileMode(path) & ExecuteBits) == ExecuteBits;

    public bool HasProgram(string name) => runner.Locate(name) is not null;

    public string? Locate(string name) => runner.Locate(name);
}

/// <summary>A host over the agentless transport: the files its script read (<see cref="PersistencePlan.FilesToRead"/>) and the programs it found.</summary>
public sealed class RemotePersistenceHost(RemoteSnapshot snapshot) : IPersistenceHost
{
    public string? ReadText(string path)
    {
        if (snapshot.UnreadableFiles.Contains(path))
        {
            throw new Errors.LvsException(Errors.LvsErrorKind.FileError, $"Cannot read '{path}' on the host.", path);
        }

        return snapshot.Files.GetValueOrDefault(path);
    }

    public bool Exists(string path) => snapshot.Exists(path);

    public bool IsExecutable(string path) =>
        snapshot.FileModes.TryGetValue(path, out var mode) && mode.Length > 0 && mode.All(c => c is >= '0' and <= '7')
        && (Convert.ToInt32(mode, 8) & 0b001_001_001) == 0b001_001_001;

    public bool HasProgram(string name) => snapshot.Programs.Contains(name);

    /// <summary>The script reports which programs it found, not where.</summary>
    public string? Locate(string name) => null;
}

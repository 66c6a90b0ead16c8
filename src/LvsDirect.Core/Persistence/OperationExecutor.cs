using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Persistence;

/// <summary>
/// Runs operations on this host, as the agentless script runs them on another: commands as argument vectors
/// (exit code checked), files replaced atomically (a new file's folder created), removals.
/// </summary>
public static class OperationExecutor
{
    public static void Run(RemoteOperation operation, IProcessRunner runner, CancellationToken cancellationToken)
    {
        switch (operation)
        {
            case RemoteCommandOperation c:
                runner.RunChecked(c.Command, cancellationToken);
                break;
            case RemoteFileWrite w:
                Write(w);
                break;
            case RemoteFileRemove r:
                Remove(r.Path);
                break;
            default:
                throw new ArgumentException($"Unknown operation {operation.GetType().Name}.", nameof(operation));
        }
    }

    private static void Write(RemoteFileWrite w)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(w.Path))!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot write '{w.Path}': {ex.Message}", w.Path, ex);
        }

        AtomicFile.WriteAllText(w.Path, w.Content, (UnixFileMode)Convert.ToInt32(w.Mode, 8), w.EnsureExecutable);
    }

    private static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{path}': {ex.Message}", path, ex);
        }
    }
}

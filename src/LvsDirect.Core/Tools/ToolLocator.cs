using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Tools;

/// <summary>
/// Finds programs without a shell. The sbin folders are searched even when PATH lacks them (a non-root
/// login's PATH often does), and a missing program names the package that installs it.
/// </summary>
public static class ToolLocator
{
    private static readonly string[] ExtraFolders = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["ip"] = "iproute2",
        ["arptables"] = "arptables",
        ["arptables-save"] = "arptables",
        ["arptables-restore"] = "arptables",
        ["arping"] = "iputils-arping",
        ["iptables"] = "iptables",
        ["iptables-save"] = "iptables",
        ["iptables-restore"] = "iptables",
        ["ebtables"] = "ebtables",
        ["nft"] = "nftables",
        ["sysctl"] = "procps",
        ["systemctl"] = "systemd",
        ["chkconfig"] = "chkconfig",
        ["ssh"] = "openssh-client",
        ["socat"] = "socat",
    };

    public static string PackageFor(string program) =>
        Packages.TryGetValue(Path.GetFileName(program), out var p) ? p : Path.GetFileName(program);

    /// <summary>The absolute path of <paramref name="program"/>, or null when it is not installed.</summary>
    public static string? TryResolve(string program)
    {
        if (program.Contains('/'))
        {
            return IsExecutable(program) ? program : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var folder in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraFolders))
        {
            var candidate = Path.Combine(folder, program);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static string Resolve(string program) =>
        TryResolve(program) ?? throw NotFound(program);

    public static LvsException NotFound(string program) =>
        new(LvsErrorKind.ProgramNotFound,
            $"The program '{program}' was not found. Install the '{PackageFor(program)}' package (for example: apt-get install {PackageFor(program)}, or dnf install {PackageFor(program)}).",
            program);

    private static bool IsExecutable(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            var mode = File.GetUnixFileMode(path);
            return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

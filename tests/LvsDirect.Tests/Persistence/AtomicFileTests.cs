using System.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Persistence;
using Xunit;

namespace LvsDirect.Tests.Persistence;

public sealed class AtomicFileTests : IDisposable
{
    private static readonly UnixFileMode Mode644 = (UnixFileMode)Convert.ToInt32("644", 8);
    private static readonly UnixFileMode Mode755 = (UnixFileMode)Convert.ToInt32("755", 8);
    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void NewFile_GetsTheNewFileModeAndNoTempFileIsLeft()
    {
        var path = PathOf("rc.local");

        Assert.True(AtomicFile.WriteAllText(path, "#!/bin/sh\n", Mode755));

        Assert.Equal("#!/bin/sh\n", File.ReadAllText(path));
        Assert.Equal(Mode755, File.GetUnixFileMode(path));
        Assert.Equal(["rc.local"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void ExistingFile_KeepsItsModeAndOwner()
    {
        var path = PathOf("arptables");
        File.WriteAllText(path, "old\n");
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("600", 8));
        Chown(path, "1:1");

        AtomicFile.WriteAllText(path, "new\n", Mode644);

        Assert.Equal("new\n", File.ReadAllText(path));
        Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(path));
        Assert.Equal("1:1", Stat(path, "%u:%g"));
    }

    [Fact]
    public void EnsureExecutable_AddsTheExecuteBits()
    {
        var path = PathOf("rc.local");
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, Mode644);

        Assert.True(AtomicFile.WriteAllText(path, "#!/bin/sh\n", Mode755, ensureExecutable: true));

        Assert.Equal(Mode755, File.GetUnixFileMode(path));
    }

    [Fact]
    public void SameContent_WritesNothing()
    {
        var path = PathOf("rc.local");
        File.WriteAllText(path, "same\n");
        var inode = Stat(path, "%i");

        Assert.False(AtomicFile.WriteAllText(path, "same\n", Mode644));

        Assert.Equal(inode, Stat(path, "%i"));
    }

    [Fact]
    public void Symlink_IsKeptAndItsTargetIsWritten()
    {
        Directory.CreateDirectory(PathOf("rc.d"));
        var target = PathOf("rc.d/rc.local");
        File.WriteAllText(target, "old\n");
        var link = PathOf("rc.local");
        File.CreateSymbolicLink(link, "rc.d/rc.local");

        AtomicFile.WriteAllText(link, "new\n", Mode755);

        Assert.Equal("rc.d/rc.local", new FileInfo(link).LinkTarget);
        Assert.Equal("new\n", File.ReadAllText(target));
    }

    [Fact]
    public void MissingFolder_IsAFileErrorNamingThePath()
    {
        var path = PathOf("no/such/folder/rc.local");

        var ex = Assert.Throws<LvsException>(() => AtomicFile.WriteAllText(path, "x", Mode644));

        Assert.Equal(LvsErrorKind.FileError, ex.Kind);
        Assert.Contains(path, ex.Message);
    }

    private static void Chown(string path, string owner) => Run("chown", owner, path);

    private static string Stat(string path, string format) => Run("stat", "-c", format, path).Trim();

    private static string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return output;
    }
}

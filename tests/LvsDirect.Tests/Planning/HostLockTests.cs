using System.Diagnostics;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using Xunit;

namespace LvsDirect.Tests.Planning;

public sealed class HostLockTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"lvsdirect-locktest-{Guid.NewGuid():N}.lock");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public async Task SecondRun_WaitsForTheFirst_ThenGetsTheLock()
    {
        var first = HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, _path);
        var sw = Stopwatch.StartNew();
        var releaser = Task.Run(() => { Thread.Sleep(300); first.Dispose(); });

        using (HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, _path))
        {
            Assert.True(sw.ElapsedMilliseconds >= 250, $"got the lock after {sw.ElapsedMilliseconds} ms while it was held");
        }

        await releaser;
    }

    [Fact]
    public void HeldLock_TimesOutWithLockTimeout()
    {
        using var first = HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, _path);

        var ex = Assert.Throws<LvsException>(() => HostLock.Acquire(TimeSpan.FromMilliseconds(200), CancellationToken.None, _path));

        Assert.Equal(LvsErrorKind.LockTimeout, ex.Kind);
    }

    [Fact]
    public void HeldLock_BlocksAnotherProcess()
    {
        using var held = HostLock.Acquire(TimeSpan.FromSeconds(5), CancellationToken.None, _path);
        var psi = new ProcessStartInfo("flock") { ArgumentList = { "--nonblock", "--exclusive", _path, "true" } };

        using var other = Process.Start(psi)!;
        other.WaitForExit();

        Assert.NotEqual(0, other.ExitCode);
    }
}

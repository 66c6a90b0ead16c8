using System.Runtime.ExceptionServices;

namespace LvsDirect.Core.Tools;

/// <summary>
/// Threads of LvsDirect's own for the short blocking jobs of a command: reading a program's output to its end,
/// running a lane of a plan, one read beside the others. Each job blocks for as long as its program runs, so each
/// has a thread to itself: not the thread pool's, whose threads the host shares and which grows only slowly once
/// they are busy. A thread is kept for the next job, and <see cref="Prestart"/> (the warm-up, at import) starts
/// them ahead of the first command, because starting a thread waits until the scheduler runs it, which costs a
/// fresh process more than some of the programs it starts take.
/// </summary>
public static class Workers
{
    private static readonly Queue<Action> Work = new();

    /// <summary>Threads waiting for a job, and threads started (waiting or busy).</summary>
    private static int _waiting;
    private static int _started;

    /// <summary>The number of threads to reach without waiting for a job: each new one starts the next.</summary>
    private static int _prestart;

    /// <summary>The threads started so far (tests).</summary>
    internal static int Threads
    {
        get
        {
            lock (Work)
            {
                return _started;
            }
        }
    }

    /// <summary>Runs <paramref name="job"/> on a waiting thread, or on a new one when none waits. The job must not throw.</summary>
    public static void Run(Action job)
    {
        lock (Work)
        {
            Work.Enqueue(job);
            if (_waiting >= Work.Count)
            {
                Monitor.Pulse(Work);
                return;
            }

            _started++;
        }

        StartThread();
    }

    /// <summary>Runs <paramref name="work"/> on a worker; <see cref="Job{T}.Result"/> waits for it and throws what it threw.</summary>
    public static Job<T> Start<T>(Func<T> work)
    {
        var job = new Job<T>(work);
        Run(job.Execute);
        return job;
    }

    /// <summary>
    /// Makes sure at least <paramref name="count"/> threads exist. This thread starts one; each started thread
    /// starts the next before it waits, so the caller pays for one thread, not for all.
    /// </summary>
    public static void Prestart(int count)
    {
        lock (Work)
        {
            _prestart = Math.Max(_prestart, count);
            if (_started >= _prestart)
            {
                return;
            }

            _started++;
        }

        StartThread();
    }

    private static void StartThread() => new Thread(Loop) { IsBackground = true, Name = "LvsDirect worker" }.Start();

    private static void Loop()
    {
        var next = false;
        lock (Work)
        {
            if (_started < _prestart)
            {
                _started++;
                next = true;
            }
        }

        if (next)
        {
            StartThread();
        }

        while (true)
        {
            Action job;
            lock (Work)
            {
                _waiting++;
                while (Work.Count == 0)
                {
                    Monitor.Wait(Work);
                }

                _waiting--;
                job = Work.Dequeue();
            }

            job();
        }
    }
}

/// <summary>A result computed on a <see cref="Workers"/> thread.</summary>
public sealed class Job<T>
{
    private readonly Func<T> _work;
    private readonly ManualResetEventSlim _done = new();
    private T? _result;
    private ExceptionDispatchInfo? _failure;

    internal Job(Func<T> work)
    {
        _work = work;
    }

    internal void Execute()
    {
        try
        {
            _result = _work();
        }
        catch (Exception ex)
        {
            _failure = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            _done.Set();
        }
    }

    /// <summary>Waits for the work to end; throws the exception it threw, with its stack.</summary>
    public T Result()
    {
        _done.Wait();
        _failure?.Throw();
        return _result!;
    }

    /// <summary>Waits for the work to end and returns whether it threw, without throwing.</summary>
    public bool Failed()
    {
        _done.Wait();
        return _failure is not null;
    }
}

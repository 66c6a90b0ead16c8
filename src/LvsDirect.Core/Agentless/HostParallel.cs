using System.Collections.Concurrent;
using System.Diagnostics;

namespace LvsDirect.Core.Agentless;

/// <summary>What one host's work gave: its result, or the exception that ended it.</summary>
public sealed record HostOutcome<TItem, TResult>(TItem Item, TResult? Result, Exception? Error, TimeSpan Duration);

/// <summary>
/// Runs work for many hosts side by side, at most <c>throttle</c> at a time, and hands each outcome to the
/// caller's thread as soon as it is ready (so a cmdlet can write results and progress from the pipeline
/// thread). One host's exception is its outcome; it never stops the others. Every transport's pool runs here
/// (agentless ssh sessions and PowerShell remoting runspaces alike).
/// </summary>
public static class HostParallel
{
    public static IEnumerable<HostOutcome<TItem, TResult>> Run<TItem, TResult>(
        IReadOnlyList<TItem> items,
        int throttle,
        Func<TItem, CancellationToken, TResult> work,
        CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            yield break;
        }

        // Dedicated threads, not the thread pool: each host mostly waits on ssh, and a pool of two threads
        // (this machine's CPU count) would grow too slowly to start eight hosts at once.
        // Not disposed: when the caller stops enumerating early (a terminating error, Select-Object -First), the
        // workers still finish their hosts and add to it, and Add on a disposed collection would throw on a
        // worker thread and end the process. It holds no OS handle until a wait needs one.
        var done = new BlockingCollection<HostOutcome<TItem, TResult>>();
        var queue = new ConcurrentQueue<TItem>(items);
        var workers = Enumerable.Range(0, Math.Clamp(throttle, 1, items.Count)).Select(_ =>
        {
            var t = new Thread(() =>
            {
                while (queue.TryDequeue(out var item))
                {
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        done.Add(new HostOutcome<TItem, TResult>(item, work(item, cancellationToken), null, clock.Elapsed));
                    }
                    catch (Exception ex)
                    {
                        done.Add(new HostOutcome<TItem, TResult>(item, default, ex, clock.Elapsed));
                    }
                }
            })
            {
                IsBackground = true,
                Name = "LvsDirect host",
            };
            t.Start();
            return t;
        }).ToList();

        for (var i = 0; i < items.Count; i++)
        {
            yield return done.Take(CancellationToken.None);
        }

        foreach (var t in workers)
        {
            t.Join();
        }
    }
}

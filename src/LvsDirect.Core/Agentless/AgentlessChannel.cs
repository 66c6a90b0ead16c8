using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Agentless;

/// <summary>
/// One ssh invocation per real server that reads its state and applies a batch: the script
/// (<see cref="AgentlessScript"/>) takes the host lock and prints the state, the caller plans locally from it,
/// and the batch goes back over the same connection's standard input. Nothing but sh, coreutils, flock and the
/// network tools is needed on the server.
/// </summary>
public sealed partial class AgentlessChannel
{
    [System.Text.RegularExpressions.GeneratedRegex("^[0-7]{3,4}$")]
    private static partial System.Text.RegularExpressions.Regex OctalMode();

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly Func<SshTarget, ProcessStartInfo> _launch;

    /// <param name="launch">How to start the session; tests run the script with a local sh instead of ssh.</param>
    public AgentlessChannel(Func<SshTarget, ProcessStartInfo>? launch = null)
    {
        _launch = launch ?? SshStartInfo;
    }

    /// <summary>
    /// The folder that stands in for /run/lvsdirect on the server (tests); null means the script's default, as
    /// the module does: the lock is then the same file <see cref="HostLock"/> takes.
    /// </summary>
    public string? LockDirectory { get; init; }

    public static ProcessStartInfo SshStartInfo(SshTarget target)
    {
        var psi = new ProcessStartInfo(ToolLocator.Resolve("ssh"));
        foreach (var a in target.SshArguments())
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    /// <summary>
    /// Connects, reads <paramref name="files"/> and the host state, asks <paramref name="plan"/> for the batch
    /// (none: nothing changes, the session just ends) and runs it in order on the server; when the batch has a
    /// <see cref="RemoteBatch.Then"/>, the state is read again after its operations succeed and the operations
    /// it returns follow, all under the same host lock. Cancellation is honoured until the batch is sent;
    /// after that the server finishes what it received (it ignores a hang-up), so an interrupted run never
    /// leaves half an operation behind. <paramref name="commands"/> are extra reads the script runs with the
    /// state (<see cref="RemoteSnapshot.Reads"/> holds their output under their names).
    /// </summary>
    public AgentlessRun Run(
        SshTarget target,
        IReadOnlyCollection<string> files,
        Func<RemoteSnapshot, RemoteBatch?> plan,
        CancellationToken cancellationToken = default,
        RemoteReads reads = RemoteReads.None,
        IReadOnlyCollection<Diagnostics.CommandRead>? commands = null)
    {
        foreach (var f in files)
        {
            if (f.Length == 0 || f.Contains('\n') || f.Contains('\r') || !f.StartsWith('/'))
            {
                throw new LvsException(LvsErrorKind.InvalidArgument, $"'{f}' is not an absolute path the agentless transport can read.", f);
            }
        }

        var clock = Stopwatch.StartNew();
        var nonce = RandomNumberGenerator.GetHexString(16, lowercase: true);
        var psi = _launch(target);
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        psi.StandardInputEncoding = Utf8;
        psi.StandardOutputEncoding = Utf8;
        psi.StandardErrorEncoding = Utf8;
        psi.Environment["LC_ALL"] = "C";

        using var process = Process.Start(psi) ?? throw new LvsException(LvsErrorKind.RemoteFailed, $"Could not start ssh for {target}.", target.HostName);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var reader = new ProtocolReader(process.StandardOutput, "==" + nonce);
        var sent = new List<RemoteOperation>();
        var results = new List<RemoteOperationResult>();
        RemoteSnapshot? snapshot = null;
        HostState? after = null;
        try
        {
            var header = new StringBuilder().Append("LVSDIRECT ").Append(AgentlessScript.ProtocolVersion).Append(' ').Append(nonce).Append('\n');
            foreach (var f in files)
            {
                header.Append("FILE ").Append(f).Append('\n');
            }

            foreach (var (flag, name) in new[] { (RemoteReads.Sysctl, "sysctl"), (RemoteReads.Nft, "nft"), (RemoteReads.Redirects, "redirects"), (RemoteReads.Stamp, "stamp") })
            {
                if (reads.HasFlag(flag))
                {
                    header.Append("READ ").Append(name).Append('\n');
                }
            }

            foreach (var read in commands ?? [])
            {
                header.Append(RenderRead(read));
            }

            if (LockDirectory is not null)
            {
                header.Append("LOCKDIR ").Append(LockDirectory).Append('\n');
            }

            header.Append("READY\n");
            TryWrite(process, header.ToString());

            snapshot = reader.ReadSnapshot();
            if (snapshot is null)
            {
                CloseInput(process);
                throw ConnectionError(target, Finish(process, stderr));
            }

            cancellationToken.ThrowIfCancellationRequested();
            var batch = plan(snapshot);
            cancellationToken.ThrowIfCancellationRequested();
            if (batch is not null)
            {
                Send(process, sent, batch.Operations);
                if (batch.Then is not null)
                {
                    TryWrite(process, "SYNC\n");
                    var again = reader.ReadResults(sent, results, untilState: true);
                    if (again is not null && results.All(r => r.Succeeded) && results.Count == sent.Count && !cancellationToken.IsCancellationRequested)
                    {
                        after = RemoteSnapshot.ComposeState(again, snapshot);
                        Send(process, sent, batch.Then(after));
                    }
                }
            }

            TryWrite(process, "COMMIT\n");
        }
        catch (Exception)
        {
            // The server sees the end of input and ends the session; wait (briefly) so that its lock is free
            // and its temporary files gone when the caller hears of the failure.
            CloseInput(process);
            process.WaitForExit(TimeSpan.FromSeconds(10));
            throw;
        }
        finally
        {
            // Planning failed, or Ctrl+C before sending: the server sees the end of input and changes nothing more.
            CloseInput(process);
        }

        reader.ReadResults(sent, results, untilState: false);
        var err = Finish(process, stderr);
        if (reader.Refused is { } refused)
        {
            throw new LvsException(LvsErrorKind.RemoteFailed, $"{target}: the agentless script refused operation {refused}.", target.HostName);
        }

        if (!reader.Done && (results.Count == 0 || results[^1].Succeeded))
        {
            throw ConnectionError(target, err, "The connection ended before the batch finished; the server finishes each operation it received whole.");
        }

        return new AgentlessRun
        {
            Target = target,
            Snapshot = snapshot,
            After = after,
            Sent = sent,
            Results = results,
            Duration = clock.Elapsed,
        };
    }

    private static void Send(Process process, List<RemoteOperation> sent, IReadOnlyList<RemoteOperation>? operations)
    {
        if (operations is null || operations.Count == 0)
        {
            return;
        }

        var text = RenderPayload(operations);
        sent.AddRange(operations);
        TryWrite(process, text);
    }

    /// <summary>The batch as the script reads it: counted lines, so no content can be taken for a header.</summary>
    public static string RenderPayload(IReadOnlyList<RemoteOperation> operations)
    {
        var sb = new StringBuilder();
        foreach (var op in operations)
        {
            switch (op)
            {
                case RemoteCommandOperation { Command: var c }:
                    if (!AgentlessScript.AllowedPrograms.Contains(c.Program))
                    {
                        throw new LvsException(LvsErrorKind.InvalidArgument, $"The agentless transport does not run '{c.Program}'.", c.Program);
                    }

                    var input = c.StandardInput is null ? [] : c.StandardInput.TrimEnd('\n').Split('\n');
                    if (c.StandardInput is { Length: > 0 } && input.Length == 0)
                    {
                        input = [string.Empty];
                    }

                    sb.Append("STEP ").Append(c.Arguments.Count).Append(' ').Append(c.StandardInput is null ? 0 : input.Length).Append('\n');
                    sb.Append(c.Program).Append('\n');
                    foreach (var a in c.Arguments)
                    {
                        sb.Append(SingleLine(a)).Append('\n');
                    }

                    if (c.StandardInput is not null)
                    {
                        foreach (var l in input)
                        {
                            sb.Append(l).Append('\n');
                        }
                    }

                    break;
                case RemoteFileRemove r:
                    sb.Append("REMOVE 0 0\n").Append(SingleLine(r.Path)).Append('\n');
                    break;
                case RemoteFileWrite w:
                    if (!OctalMode().IsMatch(w.Mode))
                    {
                        throw new LvsException(LvsErrorKind.InvalidArgument, $"'{w.Mode}' is not an octal file mode.", w.Mode);
                    }

                    var b64 = Convert.ToBase64String(Utf8.GetBytes(w.Content));
                    var chunks = Enumerable.Range(0, (b64.Length + 75) / 76).Select(i => b64.Substring(i * 76, Math.Min(76, b64.Length - (i * 76)))).ToList();
                    sb.Append("WRITE ").Append(w.Mode).Append(' ').Append(chunks.Count).Append(w.EnsureExecutable ? " x" : string.Empty).Append('\n');
                    sb.Append(SingleLine(w.Path)).Append('\n');
                    foreach (var ch in chunks)
                    {
                        sb.Append(ch).Append('\n');
                    }

                    break;
                default:
                    throw new ArgumentException($"Unknown operation {op.GetType().Name}.", nameof(operations));
            }
        }

        return sb.ToString();
    }

    /// <summary>A read as the script's header takes it: its name, its program (one it may run) and counted arguments.</summary>
    public static string RenderRead(Diagnostics.CommandRead read)
    {
        var c = read.Command;
        if (!AgentlessScript.ReadPrograms.Contains(c.Program) || c.StandardInput is not null
            || read.Name.Length == 0 || !char.IsAsciiLetterLower(read.Name[0]) || !read.Name.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch)))
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, $"The agentless transport does not read '{read.Name}' ({c.ToDisplayString()}).", read.Name);
        }

        var sb = new StringBuilder("RUN ").Append(read.Name).Append(' ').Append(c.Arguments.Count).Append('\n').Append(c.Program).Append('\n');
        foreach (var a in c.Arguments)
        {
            sb.Append(SingleLine(a)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Maps what ssh printed when the session never reached the script's state dump.</summary>
    public static LvsException ConnectionError(SshTarget target, string stderr, string? context = null)
    {
        var text = stderr.Trim();
        var kind = LvsErrorKind.RemoteFailed;
        string advice = string.Empty;
        if (text.Contains("Host key verification failed", StringComparison.Ordinal) || text.Contains("No ED25519 host key is known", StringComparison.Ordinal) || text.Contains("host key is known", StringComparison.Ordinal))
        {
            kind = LvsErrorKind.HostKeyUnknown;
            advice = " Its host key is not in known_hosts (ssh never asks in batch mode): check it and add it, e.g. with ssh-keyscan, or connect once interactively.";
        }
        else if (text.Contains("Permission denied", StringComparison.Ordinal) || text.Contains("Too many authentication failures", StringComparison.Ordinal))
        {
            kind = LvsErrorKind.AuthenticationFailed;
            advice = " Check -UserName and -KeyFilePath (a key with a passphrase needs ssh-agent).";
        }
        else if (new[] { "Could not resolve hostname", "Connection refused", "Connection timed out", "No route to host", "Network is unreachable", "Connection closed", "Connection reset", "kex_exchange_identification", "timed out" }
                 .Any(s => text.Contains(s, StringComparison.OrdinalIgnoreCase)))
        {
            kind = LvsErrorKind.HostUnreachable;
        }

        var message = $"{target}: {(context is null ? string.Empty : context + " ")}{(text.Length == 0 ? "ssh ended without output" : text)}.{advice}";
        return new LvsException(kind, message, target.HostName);
    }

    private static string SingleLine(string s) =>
        s.Contains('\n') || s.Contains('\r')
            ? throw new LvsException(LvsErrorKind.InvalidArgument, "An argument or path with a line break cannot be sent.", s)
            : s;

    private static void TryWrite(Process process, string text)
    {
        try
        {
            process.StandardInput.Write(text);
            process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // The far end went away; its output and exit status say why.
        }
    }

    /// <summary>Ends the session's input; when ssh is already gone, flushing into the closed pipe is no error of ours.</summary>
    private static void CloseInput(Process process)
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
    }

    private static string Finish(Process process, Task<string> stderr)
    {
        process.WaitForExit();
        return stderr.GetAwaiter().GetResult();
    }

    /// <summary>Reads the script's marked output.</summary>
    private sealed class ProtocolReader
    {
        private readonly TextReader _reader;
        private readonly string _marker;

        public ProtocolReader(TextReader reader, string marker)
        {
            _reader = reader;
            _marker = marker + " ";
        }

        public string? Refused { get; private set; }

        public bool Done { get; private set; }

        public RemoteSnapshot? ReadSnapshot()
        {
            int? uid = null;
            var scope = HostScopeKind.Anonymous;
            string? stateDirectory = null;
            NamespaceStamp? stamp = null;
            var programs = new HashSet<string>(StringComparer.Ordinal);
            var reads = new Dictionary<string, RemoteOutput>(StringComparer.Ordinal);
            var files = new Dictionary<string, string?>(StringComparer.Ordinal);
            var unreadable = new HashSet<string>(StringComparer.Ordinal);
            var modes = new Dictionary<string, string>(StringComparer.Ordinal);
            while (Next() is { } line)
            {
                var (word, rest) = Split(line);
                switch (word)
                {
                    case "BEGIN":
                        break;
                    case "UID":
                        uid = int.Parse(rest, System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "HAVE":
                        programs.Add(rest);
                        break;
                    case "SCOPE":
                        var (kind, folder) = Split(rest);
                        scope = kind switch { "host" => HostScopeKind.Host, "named" => HostScopeKind.Named, _ => HostScopeKind.Anonymous };
                        stateDirectory = folder.Length > 0 ? folder : null;
                        break;
                    case "STAMP":
                        var (boot, inodeAndCookie) = Split(rest);
                        var (inode, cookie) = Split(inodeAndCookie);
                        stamp = new NamespaceStamp(
                            ulong.TryParse(cookie, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var c) ? c : null,
                            boot is "" or "-" ? null : boot,
                            ulong.TryParse(inode, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : 0);
                        break;
                    case "OUT":
                        var (name, rc) = Split(rest);
                        reads[name] = ReadOutput(int.Parse(rc, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case "FILE":
                        var (status, modeAndPath) = Split(rest);
                        var (mode, path) = Split(modeAndPath);
                        var body = ReadBase64Until("END");
                        if (status == "1")
                        {
                            files[path] = body;
                            modes[path] = mode;
                        }
                        else if (status == "0")
                        {
                            files[path] = null;
                        }
                        else
                        {
                            unreadable.Add(path);
                        }

                        break;
                    case "STATE-END":
                        return new RemoteSnapshot
                        {
                            Uid = uid ?? -1,
                            Programs = programs,
                            Reads = reads,
                            Files = files,
                            UnreadableFiles = unreadable,
                            FileModes = modes,
                            Scope = scope,
                            StateDirectory = stateDirectory,
                            Stamp = stamp,
                        };
                    default:
                        throw Protocol(line);
                }
            }

            return null;
        }

        /// <summary>
        /// Reads operation results into <paramref name="results"/>; with <paramref name="untilState"/>, up to the
        /// state a SYNC prints (returned), else to the end of output (null).
        /// </summary>
        public Dictionary<string, RemoteOutput>? ReadResults(IReadOnlyList<RemoteOperation> sent, List<RemoteOperationResult> results, bool untilState)
        {
            var reads = new Dictionary<string, RemoteOutput>(StringComparer.Ordinal);
            while (Next() is { } line)
            {
                var (word, rest) = Split(line);
                switch (word)
                {
                    case "OUT":
                        var (name, rc) = Split(rest);
                        var output = ReadOutput(int.Parse(rc, System.Globalization.CultureInfo.InvariantCulture));
                        if (!int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i))
                        {
                            reads[name] = output;
                        }
                        else if (i >= 0 && i < sent.Count)
                        {
                            results.Add(new RemoteOperationResult(i, sent[i], output));
                        }
                        else
                        {
                            throw Protocol(line);
                        }

                        break;
                    case "STATE-END" when untilState:
                        return reads;
                    case "REFUSED":
                        Refused = rest;
                        break;
                    case "DONE":
                        Done = true;
                        break;
                    default:
                        throw Protocol(line);
                }
            }

            return null;
        }

        private RemoteOutput ReadOutput(int exitCode)
        {
            var stdout = ReadBase64Until("ERR");
            var stderr = ReadBase64Until("END");
            return new RemoteOutput(exitCode, stdout, stderr);
        }

        private string ReadBase64Until(string end)
        {
            var sb = new StringBuilder();
            while (_reader.ReadLine() is { } line)
            {
                if (line == _marker + end)
                {
                    return Utf8.GetString(Convert.FromBase64String(sb.ToString()));
                }

                sb.Append(line.Trim());
            }

            throw new LvsException(LvsErrorKind.RemoteFailed, "The agentless session ended in the middle of its output.");
        }

        private string? Next()
        {
            while (_reader.ReadLine() is { } line)
            {
                if (line.StartsWith(_marker, StringComparison.Ordinal))
                {
                    return line[_marker.Length..];
                }

                // Anything else (a login banner, a profile's echo) is not ours: skip it.
            }

            return null;
        }

        private static (string Word, string Tail) Split(string s)
        {
            var i = s.IndexOf(' ');
            return i < 0 ? (s, string.Empty) : (s[..i], s[(i + 1)..]);
        }

        private static LvsException Protocol(string line) =>
            new(LvsErrorKind.RemoteFailed, $"Unexpected line from the agentless script: '{line}'.");
    }
}

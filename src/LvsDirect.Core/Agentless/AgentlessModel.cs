using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Host;
using LvsDirect.Core.Tools;

namespace LvsDirect.Core.Agentless;

/// <summary>
/// Where and how to reach a real server with the OpenSSH client. Only what the caller sets is passed to ssh,
/// so ~/.ssh/config, the user's keys and known_hosts keep deciding the rest.
/// </summary>
public sealed partial record SshTarget
{
    public SshTarget(string hostName, string? userName = null, int? port = null, string? keyFilePath = null)
    {
        if (string.IsNullOrWhiteSpace(hostName) || hostName.StartsWith('-') || !HostPattern().IsMatch(hostName))
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, $"'{hostName}' is not a host name or address ssh can be given.", hostName);
        }

        if (userName is not null && (userName.StartsWith('-') || !UserPattern().IsMatch(userName)))
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, $"'{userName}' is not a valid user name.", userName);
        }

        if (port is < 1 or > 65535)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument, $"Port {port} is outside 1-65535.", port);
        }

        if (keyFilePath is not null && !File.Exists(keyFilePath))
        {
            throw new LvsException(LvsErrorKind.FileError, $"The key file '{keyFilePath}' does not exist.", keyFilePath);
        }

        HostName = hostName;
        UserName = userName;
        Port = port;
        KeyFilePath = keyFilePath is null ? null : Path.GetFullPath(keyFilePath);
    }

    public string HostName { get; }

    public string? UserName { get; }

    public int? Port { get; }

    public string? KeyFilePath { get; }

    /// <summary>How long ssh may take to connect before the host counts as unreachable.</summary>
    public int ConnectTimeoutSeconds { get; init; } = 10;

    /// <summary>
    /// The ssh argument vector: no terminal, never a prompt (BatchMode: an unknown host key or a key that
    /// needs a passphrase fails instead of hanging), then the host after "--" and the fixed remote command.
    /// </summary>
    public IReadOnlyList<string> SshArguments()
    {
        var args = new List<string> { "-T", "-o", "BatchMode=yes", "-o", $"ConnectTimeout={ConnectTimeoutSeconds}" };
        if (Port is { } port)
        {
            args.AddRange(["-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (UserName is not null)
        {
            args.AddRange(["-l", UserName]);
        }

        if (KeyFilePath is not null)
        {
            args.AddRange(["-i", KeyFilePath, "-o", "IdentitiesOnly=yes"]);
        }

        args.AddRange(["--", HostName, AgentlessScript.RemoteCommand]);
        return args;
    }

    public override string ToString() => UserName is null ? HostName : $"{UserName}@{HostName}";

    // Names, IPv4, bracket-less IPv6 and zone ids; nothing a shell or ssh would read as an option or a command.
    [GeneratedRegex(@"^[A-Za-z0-9_.:%-]{1,253}$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,63}$")]
    private static partial Regex UserPattern();
}

/// <summary>Reads beyond addresses, routes and ARP rules, for diagnostics.</summary>
[Flags]
public enum RemoteReads
{
    None = 0,

    /// <summary>arp_ignore, arp_announce and rp_filter of every IPv4 conf, read as "sysctl" ("conf key value" lines).</summary>
    Sysctl = 2,

    /// <summary>LvsDirect's nftables ARP table where nft is installed (<c>nft -j list table arp lvsdirect</c>), read as "nft".</summary>
    Nft = 4,

    /// <summary>The nat PREROUTING rules where iptables is installed (<c>iptables -t nat -S PREROUTING</c>), read as "redirects".</summary>
    Redirects = 8,

    /// <summary>The server's <see cref="NamespaceStamp"/>, for the sysctl method's record.</summary>
    Stamp = 16,

    /// <summary>Everything a plan of Set-LvsRealServer may need beyond addresses and arptables rules.</summary>
    Planning = Sysctl | Nft | Stamp,
}

/// <summary>What one command printed on the real server.</summary>
public sealed record RemoteOutput(int ExitCode, string StandardOutput, string StandardError);

/// <summary>A real server's state as the agentless script read it, under its host lock.</summary>
public sealed class RemoteSnapshot
{
    public required int Uid { get; init; }

    /// <summary>Programs the script found on the server's PATH (plus the sbin folders).</summary>
    public required IReadOnlySet<string> Programs { get; init; }

    /// <summary>The reads by name: ip, arplist, arpversion (those that ran).</summary>
    public required IReadOnlyDictionary<string, RemoteOutput> Reads { get; init; }

    /// <summary>The files asked for: their text, or null when the file does not exist.</summary>
    public required IReadOnlyDictionary<string, string?> Files { get; init; }

    /// <summary>Files that exist but could not be read (not a regular file, such as a folder, or no permission).</summary>
    public required IReadOnlySet<string> UnreadableFiles { get; init; }

    /// <summary>The permission bits of each file read (octal text as stat prints it, e.g. "755").</summary>
    public IReadOnlyDictionary<string, string> FileModes { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether <paramref name="path"/> exists in any form (file, folder, link).</summary>
    public bool Exists(string path) => Files.TryGetValue(path, out var text) ? text is not null : UnreadableFiles.Contains(path);

    public bool IsRoot => Uid == 0;

    /// <summary>The server's network namespace kind, as the script found it (HostScope's rule).</summary>
    public HostScopeKind Scope { get; init; } = HostScopeKind.Anonymous;

    /// <summary>The folder of its records (durable, or runtime for an anonymous namespace); null from a script that did not say.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>The server's namespace and boot, as the sysctl method's record is stamped there; null when not read.</summary>
    public NamespaceStamp? Stamp { get; init; }

    /// <summary>Where its sysctl method's record is by default; null when the script named no state folder.</summary>
    public string? SysctlRecordPath => StateDirectory is null ? null : $"{StateDirectory}/{Persistence.SysctlStateFile.FileName}";

    /// <summary>
    /// The values the sysctl method replaced on the server (its record at <paramref name="path"/>, read with the
    /// state), and whether the record is stale (stamped in another namespace or boot: never applied, to be removed).
    /// </summary>
    public (IReadOnlyList<Persistence.SysctlRecord> Records, bool Stale) ReadSysctlRecords(string path)
    {
        if (UnreadableFiles.Contains(path))
        {
            throw new LvsException(LvsErrorKind.FileError, $"The sysctl record {path} exists but could not be read (it needs root).", path);
        }

        var stamp = Stamp ?? throw new InvalidOperationException("The namespace stamp was not read.");
        return Persistence.SysctlStateFile.Parse(Files.GetValueOrDefault(path), path, stamp);
    }

    /// <summary>LvsDirect's iptables REDIRECT rules among the nat PREROUTING rules read; null when they were not read.</summary>
    public IReadOnlyList<Parsing.RedirectRule>? ReadRedirects()
    {
        if (!Reads.TryGetValue("redirects", out var r))
        {
            return null;
        }

        if (r.ExitCode != 0)
        {
            throw ProcessRunnerExtensions.CommandFailed(new ToolResult(Parsing.RedirectSyntax.ListCommand, r.ExitCode, r.StandardOutput, r.StandardError, TimeSpan.Zero));
        }

        return Parsing.RedirectSyntax.Parse(r.StandardOutput);
    }

    /// <summary>Where its ownership record is; null when the script named no state folder.</summary>
    public string? VipRecordPath => StateDirectory is null ? null : Persistence.VipRecord.PathIn(StateDirectory);

    /// <summary>
    /// Which VIPs LvsDirect manages on the server: its record (read with the state) and, where they apply, the
    /// boot files among those read (<see cref="AgentlessDiagnosis.OwnershipFiles"/>).
    /// </summary>
    public Ownership ReadOwnership(string? rcLocalPath)
    {
        if (VipRecordPath is { } record && UnreadableFiles.Contains(record))
        {
            throw new LvsException(LvsErrorKind.FileError, $"The ownership record {record} exists but could not be read (it needs root).", record);
        }

        var recorded = Persistence.VipRecord.Parse(VipRecordPath is null ? null : Files.GetValueOrDefault(VipRecordPath), VipRecordPath ?? "vips.json");
        if (!Ownership.BootFilesApply(Scope, rcLocalPath is not null))
        {
            return new Ownership(recorded);
        }

        var rc = rcLocalPath ?? AgentlessDiagnosis.RcLocalPathOn(this);
        return Ownership.FromTexts(recorded, Files.GetValueOrDefault(rc), rc, Files.GetValueOrDefault(Persistence.SystemdUnit.DefaultPath));
    }

    /// <summary>The host state in the same shape the local inspector builds, so the planner needs no second path.</summary>
    public HostState ToHostState()
    {
        if (Reads.TryGetValue("lock", out var lockFailure) && lockFailure.ExitCode != 0)
        {
            throw new LvsException(LvsErrorKind.LockTimeout, $"The LvsDirect host lock could not be taken on the server: {lockFailure.StandardError.Trim()}");
        }

        var ip = Require("ip", "ip");
        var arp = Reads.TryGetValue("arplist", out var a) ? a : null;
        if (arp is { ExitCode: not 0 })
        {
            throw ProcessRunnerExtensions.CommandFailed(new ToolResult(HostInspector.ListArpCommand, arp.ExitCode, arp.StandardOutput, arp.StandardError, TimeSpan.Zero));
        }

        var version = Reads.TryGetValue("arpversion", out var v) ? v.StandardOutput + v.StandardError : null;
        var composed = HostInspector.Compose(ip.StandardOutput, arp?.StandardOutput, version);
        var sysctls = Reads.TryGetValue("sysctl", out var s) ? ArpSysctlsOf(s.StandardOutput) : null;
        var nft = ReadNft();
        return sysctls is null && nft is null
            ? composed
            : new HostState(composed.Interfaces, composed.DefaultRoutes, composed.ArpRules, composed.Dialect, sysctls, nft) { Gateways = composed.Gateways };
    }

    /// <summary>The script's "conf key value" lines as the ARP sysctls `sysctl` prints locally (an interface's /proc name is its real name).</summary>
    private static Model.ArpSysctls ArpSysctlsOf(string text)
    {
        var values = new Dictionary<Model.SysctlKey, int>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && parts[1] is Model.SysctlKey.ArpIgnore or Model.SysctlKey.ArpAnnounce
                && int.TryParse(parts[2], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                values[new Model.SysctlKey(parts[0], parts[1])] = value;
            }
        }

        return new Model.ArpSysctls(values);
    }

    /// <summary>LvsDirect's nftables table as read (empty when it does not exist); null when nft was not read.</summary>
    private IReadOnlyList<Parsing.NftArpEntry>? ReadNft()
    {
        if (!Reads.TryGetValue("nft", out var n))
        {
            return null;
        }

        var result = new ToolResult(Parsing.NftArpTable.ListCommand, n.ExitCode, n.StandardOutput, n.StandardError, TimeSpan.Zero);
        if (Parsing.NftArpTable.IsMissingTable(result))
        {
            return [];
        }

        return result.Succeeded ? Parsing.NftArpTable.Parse(n.StandardOutput) : throw ProcessRunnerExtensions.CommandFailed(result);
    }

    /// <summary>The state a SYNC printed, with the flavor and programs of the first read.</summary>
    internal static HostState ComposeState(IReadOnlyDictionary<string, RemoteOutput> reads, RemoteSnapshot first)
    {
        var merged = new Dictionary<string, RemoteOutput>(reads, StringComparer.Ordinal);
        if (first.Reads.TryGetValue("arpversion", out var v))
        {
            merged["arpversion"] = v;
        }

        return new RemoteSnapshot
        {
            Uid = first.Uid,
            Programs = first.Programs,
            Reads = merged,
            Files = first.Files,
            UnreadableFiles = first.UnreadableFiles,
            FileModes = first.FileModes,
            Scope = first.Scope,
            StateDirectory = first.StateDirectory,
            Stamp = first.Stamp,
        }.ToHostState();
    }

    private RemoteOutput Require(string read, string program)
    {
        if (!Programs.Contains(program) || !Reads.TryGetValue(read, out var output))
        {
            throw ToolLocator.NotFound(program);
        }

        if (output.ExitCode != 0)
        {
            throw ProcessRunnerExtensions.CommandFailed(new ToolResult(HostInspector.ReadAddressesCommand, output.ExitCode, output.StandardOutput, output.StandardError, TimeSpan.Zero));
        }

        return output;
    }
}

/// <summary>One operation of a remote batch: a command, or an atomic file replacement.</summary>
public abstract record RemoteOperation
{
    public abstract string Describe();
}

public sealed record RemoteCommandOperation(ToolCommand Command) : RemoteOperation
{
    public override string Describe() => Command.ToDisplayString();
}

/// <summary>
/// Replace a file atomically; a new file gets <see cref="Mode"/>, an existing one keeps its mode and owner
/// (plus the execute bits with <see cref="EnsureExecutable"/>, as rc.local needs to run at boot).
/// </summary>
public sealed record RemoteFileWrite(string Path, string Content, string Mode = "0644") : RemoteOperation
{
    public bool EnsureExecutable { get; init; }

    public override string Describe() => $"write {Path} ({Content.Split('\n').Length - 1} line(s), atomically)";
}

/// <summary>Remove a file LvsDirect wrote (a record left empty, a unit or sysctl.d file with nothing left to keep); a missing file is no error.</summary>
public sealed record RemoteFileRemove(string Path) : RemoteOperation
{
    public override string Describe() => $"remove {Path}";
}

/// <summary>
/// What to do on a server: <see cref="Operations"/> in order, then, when they all succeeded, the operations
/// <see cref="Then"/> returns from the state read again (for files written from the state as it now is).
/// </summary>
public sealed class RemoteBatch
{
    public IReadOnlyList<RemoteOperation> Operations { get; init; } = [];

    public Func<HostState, IReadOnlyList<RemoteOperation>>? Then { get; init; }
}

/// <summary>What ran on the server, in order; the run stops at the first failure.</summary>
public sealed record RemoteOperationResult(int Index, RemoteOperation Operation, RemoteOutput Output)
{
    public bool Succeeded => Output.ExitCode == 0;
}

/// <summary>The outcome of one agentless session with one host.</summary>
public sealed class AgentlessRun
{
    public required SshTarget Target { get; init; }

    public RemoteSnapshot? Snapshot { get; init; }

    /// <summary>The state read again after the operations, when the batch asked for it.</summary>
    public HostState? After { get; init; }

    public IReadOnlyList<RemoteOperation> Sent { get; init; } = [];

    public IReadOnlyList<RemoteOperationResult> Results { get; init; } = [];

    public TimeSpan Duration { get; init; }

    /// <summary>The first failed operation, when one failed.</summary>
    public RemoteOperationResult? Failed => Results.FirstOrDefault(r => !r.Succeeded);

    public bool Completed => Failed is null && Results.Count == Sent.Count;
}

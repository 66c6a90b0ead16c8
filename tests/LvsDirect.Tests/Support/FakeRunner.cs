using LvsDirect.Core.Tools;

namespace LvsDirect.Tests.Support;

/// <summary>
/// A process runner that answers reads from canned output and records every command, so planner and cmdlet
/// tests can assert exactly what would run, without touching the machine.
/// </summary>
public sealed class FakeRunner : IProcessRunner
{
    private readonly Dictionary<string, Func<ToolCommand, ToolResult>> _responses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _missing = new(StringComparer.Ordinal);

    public List<ToolCommand> Commands { get; } = [];

    public IEnumerable<ToolCommand> Changes => Commands.Where(c => !IsRead(c));

    public FakeRunner On(string commandLine, string stdout, int exitCode = 0, string stderr = "")
    {
        _responses[commandLine] = c => new ToolResult(c, exitCode, stdout, stderr, TimeSpan.FromMilliseconds(1));
        return this;
    }

    /// <summary>Answers <paramref name="commandLine"/> by calling <paramref name="respond"/> as it runs (to look at the host from inside a step).</summary>
    public FakeRunner When(string commandLine, Func<ToolCommand, ToolResult> respond)
    {
        _responses[commandLine] = respond;
        return this;
    }

    /// <summary>The fake host lacks these programs: lookups say so, whatever this machine has installed.</summary>
    public FakeRunner Without(params string[] programs)
    {
        _missing.UnionWith(programs);
        return this;
    }

    /// <summary>Every program is on the fake host unless <see cref="Without"/> took it away; the machine's PATH is never asked.</summary>
    public string? Locate(string program) => _missing.Contains(program) ? null : "/lvsdirect-tests/fake/bin/" + program;

    public FakeRunner Throw(string commandLine, Exception ex)
    {
        _responses[commandLine] = _ => throw ex;
        return this;
    }

    /// <summary>A host with one interface eth0 (192.0.2.11/24, default route) and the given `arptables -L -n` listing.</summary>
    public static FakeRunner Host(string arptablesList = "Chain INPUT (policy ACCEPT)\n\nChain OUTPUT (policy ACCEPT)\n", string extraAddrInfo = "", string version = "arptables v1.8.9 (nf_tables)", string extraLoAddrInfo = "")
    {
        var addr = "[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\",\"UP\"],\"operstate\":\"UNKNOWN\",\"address\":\"00:00:00:00:00:00\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":\"host\",\"label\":\"lo\"}" + extraLoAddrInfo + "]},"
                   + "{\"ifindex\":2,\"ifname\":\"eth0\",\"flags\":[\"BROADCAST\",\"UP\"],\"operstate\":\"UP\",\"address\":\"02:00:00:00:00:11\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"192.0.2.11\",\"prefixlen\":24,\"broadcast\":\"192.0.2.255\",\"scope\":\"global\",\"label\":\"eth0\"}"
                   + extraAddrInfo + "]}]\n";
        var route = "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\",\"flags\":[]}]\n";
        return new FakeRunner()
            .On("ip -j -batch -", addr + route)
            .On("arptables -L -n", arptablesList)
            .On("arptables -V", version + "\n")
            .On("arptables-restore", string.Empty)
            .On("nft -j list table arp lvsdirect", string.Empty, 1, "Error: No such file or directory\nlist table arp lvsdirect\n")
            .On("ip -batch -", string.Empty);
    }

    public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default)
    {
        // The host inspector reads addresses and rules in parallel.
        lock (Commands)
        {
            Commands.Add(command);
        }

        var key = command.Program + (command.Arguments.Count > 0 ? " " + string.Join(' ', command.Arguments) : string.Empty);
        if (_responses.TryGetValue(key, out var respond) || _responses.TryGetValue(command.Program, out respond))
        {
            return respond(command);
        }

        return new ToolResult(command, 0, string.Empty, string.Empty, TimeSpan.FromMilliseconds(1));
    }

    private static bool IsRead(ToolCommand c) =>
        (c.Program == "ip" && c.Arguments.Contains("-j")) || (c.Program == "sysctl" && !c.Arguments.Contains("-w")) || (c.Program == "iptables" && c.Arguments.Contains("-S")) || (c.Program == "nft" && c.Arguments.Contains("list")) || (c.Program == "arptables" && (c.Arguments.Contains("-V") || c.Arguments.Contains("-L")));
}

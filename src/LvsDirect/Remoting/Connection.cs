using System.Collections.ObjectModel;
using System.Management.Automation;
using LvsDirect.Core.Agentless;
using LvsDirect.Core.Model;

namespace LvsDirect.Remoting;

/// <summary>
/// Which parameter sets of a cmdlet take the connection parameters: <paramref name="ByName"/> the ones that reach
/// hosts by name (-UserName, -KeyFilePath, the SSH port, -Transport), <paramref name="Throttled"/> the ones that
/// run hosts side by side (-ThrottleLimit, also with -Session). <paramref name="PortName"/> is "SshPort" where
/// -Port is the cmdlet's own (Test-LvsRealServer's service port); elsewhere it is "Port", with the alias SshPort.
/// </summary>
internal sealed record ConnectionSets(IReadOnlyList<string> ByName, IReadOnlyList<string> Throttled, bool HasTransport = true, string PortName = ConnectionParameters.Port);

/// <summary>
/// The connection parameters of every cmdlet that works on other hosts, declared here once: the same names,
/// types, validation and defaults whatever the cmdlet (they are the cmdlet's dynamic parameters, so that each
/// cmdlet puts them in its own parameter sets).
/// </summary>
internal static class ConnectionParameters
{
    public const string UserName = nameof(UserName);
    public const string KeyFilePath = nameof(KeyFilePath);
    public const string Port = nameof(Port);
    public const string SshPort = nameof(SshPort);
    public const string ThrottleLimit = nameof(ThrottleLimit);
    public const string Transport = nameof(Transport);

    /// <summary>Hosts served at the same time when -ThrottleLimit is not given.</summary>
    public const int DefaultThrottleLimit = 32;

    public static RuntimeDefinedParameterDictionary Define(ConnectionSets sets)
    {
        var port = sets.PortName == Port
            ? Parameter(Port, typeof(int), sets.ByName, new ValidateRangeAttribute(0, 65535), new AliasAttribute(SshPort))
            : Parameter(sets.PortName, typeof(int), sets.ByName, new ValidateRangeAttribute(0, 65535));
        var all = new List<RuntimeDefinedParameter>
        {
            Parameter(UserName, typeof(string), sets.ByName, new ValidateNotNullOrEmptyAttribute()),
            Parameter(KeyFilePath, typeof(string), sets.ByName, new ValidateNotNullOrEmptyAttribute()),
            port,
            Parameter(ThrottleLimit, typeof(int), sets.Throttled, new ValidateRangeAttribute(1, 1024)),
        };
        if (sets.HasTransport)
        {
            all.Add(Parameter(Transport, typeof(LvsTransport), sets.ByName));
        }

        var dictionary = new RuntimeDefinedParameterDictionary();
        foreach (var p in all)
        {
            dictionary.Add(p.Name, p);
        }

        return dictionary;
    }

    private static RuntimeDefinedParameter Parameter(string name, Type type, IReadOnlyList<string> sets, params Attribute[] validation)
    {
        var attributes = new Collection<Attribute>();
        foreach (var set in sets)
        {
            attributes.Add(new ParameterAttribute { ParameterSetName = set });
        }

        foreach (var a in validation)
        {
            attributes.Add(a);
        }

        return new RuntimeDefinedParameter(name, type, attributes);
    }
}

/// <summary>
/// How to reach hosts by name, resolved once for both transports: the key file is a path of this session
/// (resolved against its current location), checked like every ssh argument before any host is contacted.
/// </summary>
internal sealed record Connection(string? UserName, string? KeyFilePath, int Port)
{
    /// <summary>A host for the agentless transport; the name, user, port and key are checked here (InvalidArgument, FileError).</summary>
    public SshTarget Target(string hostName) => new(hostName, UserName, Port == 0 ? null : Port, KeyFilePath);

    /// <summary>A host for PowerShell remoting, checked exactly as for ssh.</summary>
    public RemoteTarget RemoteTarget(string hostName) => Remoting.RemoteTarget.ForHost(Target(hostName).HostName);

    public RemoteRunner Runner(bool force = false) =>
        new(new SshOptions { UserName = UserName, KeyFilePath = KeyFilePath is null ? null : Path.GetFullPath(KeyFilePath), Port = Port }, force);
}

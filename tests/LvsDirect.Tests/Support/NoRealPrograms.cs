using System.Runtime.CompilerServices;
using LvsDirect.Core.Tools;

namespace LvsDirect.Tests.Support;

/// <summary>
/// The runner the module's cmdlets get in this test assembly whenever no test gave them a fake: starting or
/// even looking up a program throws, so a test that would touch the machine's real arptables, ip or nft
/// fails instead. Tests that mean to run real programs (the namespace lab tests) start them themselves.
/// </summary>
public sealed class NoRealPrograms : IProcessRunner
{
    public static readonly NoRealPrograms Instance = new();

    [ModuleInitializer]
    internal static void InstallForEveryTest() => LvsCmdlet.RunnerFactory = () => Instance;

    public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException($"An xUnit test ran the real program '{command.ToDisplayString()}' through the module; give the cmdlet a FakeRunner (CmdletHost).");

    public string? Locate(string program) =>
        throw new InvalidOperationException($"An xUnit test looked up the real program '{program}' through the module; give the cmdlet a FakeRunner (CmdletHost).");
}

using System.Management.Automation;
using LvsDirect.Core.Tools;

namespace LvsDirect;

/// <summary>
/// Runs when PowerShell imports the cmdlets: starts <see cref="Warmup"/>, so that the first command of a fresh
/// process finds most of its code prepared. Importing itself waits for nothing.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport() => Warmup.Start();
}

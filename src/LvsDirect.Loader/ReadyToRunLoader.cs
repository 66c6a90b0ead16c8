using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace LvsDirect.Loader;

/// <summary>
/// The manifest's nested module, imported before the cmdlets: it loads the ReadyToRun image of LvsDirect.Core
/// that the build compiled ahead of time for this processor and .NET major version (r2r/linux-ARCH.netN/), so the
/// cmdlets bind to it and a fresh process does not JIT the whole library on its first command. Such an image
/// loads only on its own processor (elsewhere it is a BadImageFormatException) and its code is used only by its
/// own runtime, hence one folder per pair; without a matching one the IL LvsDirect.Core.dll beside the cmdlets is
/// loaded as usual, with the same behaviour.
/// </summary>
public sealed class ReadyToRunLoader : IModuleAssemblyInitializer
{
    public void OnImport()
    {
        var folder = Path.GetDirectoryName(typeof(ReadyToRunLoader).Assembly.Location);
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        var platform = $"linux-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}.net{Environment.Version.Major}";
        var image = Path.Combine(folder, "r2r", platform, "LvsDirect.Core.dll");
        if (!File.Exists(image))
        {
            return;
        }

        try
        {
            AssemblyLoadContext.Default.LoadFromAssemblyPath(image);
        }
        catch (FileLoadException)
        {
            // This process already holds an LvsDirect.Core (another copy of the module imported earlier): the
            // cmdlets bind to that one, as they would without this loader.
        }
    }
}

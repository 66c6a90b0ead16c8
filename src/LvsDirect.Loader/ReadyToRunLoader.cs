using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace LvsDirect.Loader;

/// <summary>
/// The manifest's nested module, imported before the cmdlets: it loads the ReadyToRun images of LvsDirect.Core and of
/// the cmdlets (LvsDirect.dll) that the build compiled ahead of time for this processor and .NET major version
/// (r2r/linux-ARCH.netN/), so a fresh process does not JIT the whole library on its first command. PowerShell then
/// imports the manifest's next nested module, LvsDirect.dll, and gets the assembly of that name already loaded (the
/// same metadata), and the cmdlets bind to the loaded LvsDirect.Core. Such an image loads only on its own processor
/// (elsewhere it is a BadImageFormatException) and its code is used only by its own runtime, hence one folder per
/// pair; without a matching one the IL beside the manifest is loaded as usual, with the same behaviour.
/// </summary>
public sealed class ReadyToRunLoader : IModuleAssemblyInitializer
{
    /// <summary>
    /// The module's folder, the manifest's: this assembly is never precompiled, so it always loads from there, while
    /// the cmdlets' own assembly may come from r2r/linux-ARCH.netN/.
    /// </summary>
    public static string ModuleFolder => Path.GetDirectoryName(typeof(ReadyToRunLoader).Assembly.Location) ?? string.Empty;

    public void OnImport()
    {
        var folder = ModuleFolder;
        if (folder.Length == 0)
        {
            return;
        }

        var platform = $"linux-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}.net{Environment.Version.Major}";
        var images = Path.Combine(folder, "r2r", platform);
        foreach (var name in new[] { "LvsDirect.Core.dll", "LvsDirect.dll" })
        {
            var image = Path.Combine(images, name);
            if (!File.Exists(image))
            {
                continue;
            }

            try
            {
                AssemblyLoadContext.Default.LoadFromAssemblyPath(image);
            }
            catch (FileLoadException)
            {
                // This process already holds that assembly (another copy of the module imported earlier): the
                // module uses that one, as it would without this loader.
            }
        }
    }
}

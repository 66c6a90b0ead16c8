namespace LvsDirect.Tests.Config;

internal static class ConfigFixture
{
    public static string PathOf(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", "config", .. parts]);

    public static string Text(params string[] parts) => File.ReadAllText(PathOf(parts));
}

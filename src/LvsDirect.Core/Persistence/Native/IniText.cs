namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// The ini syntax systemd units, .network files and NetworkManager keyfiles share: `[Section]`, `Key=Value`,
/// comments from `#` or `;` at the start of a line. Sections may repeat; their entries are kept in order.
/// </summary>
internal static class IniText
{
    public static List<(string Section, string Key, string Value)> Parse(string text)
    {
        var result = new List<(string, string, string)>();
        var section = string.Empty;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                section = line[1..^1].Trim();
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq > 0)
            {
                result.Add((section, line[..eq].Trim(), line[(eq + 1)..].Trim()));
            }
        }

        return result;
    }
}

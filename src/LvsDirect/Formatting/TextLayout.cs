using System.Management.Automation.Host;
using System.Text;

namespace LvsDirect.Formatting;

/// <summary>
/// Lays out the text of the default views (LvsDirect.Format.ps1xml). PowerShell's formatter breaks a line that
/// is too long at the column, in the middle of a word or an address ("203.0.113 .100"); the views hand it lines
/// that are already broken between words, so it never has to.
/// </summary>
public static class TextLayout
{
    /// <summary>The width the views are written for: a line is never longer than this.</summary>
    public const int Columns = 80;

    /// <summary>
    /// The width to lay a block view out in: the terminal's when it is narrower than <see cref="Columns"/>, else
    /// Columns, so that a line of prose stays readable on a wide terminal. One column is kept free, since a
    /// console wraps a line that fills its last column.
    /// </summary>
    public static int Width(PSHost? host) => Math.Min(Terminal(host), Columns) - 1;

    /// <summary>
    /// The width to lay a table out in: the terminal's, and at least <see cref="Columns"/>. A table's last
    /// column uses what the fixed columns leave of it, like the columns PowerShell sizes itself.
    /// </summary>
    public static int TableWidth(PSHost? host) => Math.Max(Terminal(host), Columns) - 1;

    /// <summary>The terminal's width; Columns for a host without one (a remoting server, a test runspace).</summary>
    private static int Terminal(PSHost? host)
    {
        try
        {
            var width = host?.UI?.RawUI?.BufferSize.Width ?? 0;
            return width > 20 ? width : Columns;
        }
        catch (Exception ex) when (ex is NotImplementedException or NotSupportedException or HostException or IOException)
        {
            return Columns;
        }
    }

    /// <summary>
    /// Breaks <paramref name="text"/> into lines of at most <paramref name="width"/> characters, between words.
    /// A word longer than a line (a path, a sysctl key) is broken after a '/', ',', '.' or ';' where possible.
    /// </summary>
    public static IReadOnlyList<string> Lines(string? text, int width)
    {
        width = Math.Max(width, 10);
        var lines = new List<string>();
        foreach (var paragraph in (text ?? string.Empty).Replace("\r\n", "\n").Split('\n'))
        {
            var line = new StringBuilder();
            foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(w => Pieces(w, width)))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > width)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }

                if (line.Length > 0)
                {
                    line.Append(' ');
                }

                line.Append(word);
            }

            lines.Add(line.ToString());
        }

        return lines;
    }

    /// <summary>
    /// <paramref name="text"/> as an indented block: the first line starts with <paramref name="prefix"/> (e.g.
    /// "Fix: "), the others line up under the text after it. Empty when there is no text.
    /// </summary>
    public static string Block(string? text, int indent, int width, string prefix = "")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var hanging = indent + prefix.Length;
        var lines = Lines(text, width - hanging);
        return string.Join('\n', lines.Select((l, i) => (i == 0 ? new string(' ', indent) + prefix : new string(' ', hanging)) + l));
    }

    /// <summary>
    /// One row of fixed-width columns (<paramref name="columns"/>, <paramref name="widths"/>), then
    /// <paramref name="rest"/> in the space left on the line; what does not fit continues on the next lines,
    /// under where it started.
    /// </summary>
    public static string Row(int width, string?[] columns, int[] widths, string? rest)
    {
        var start = new StringBuilder();
        for (var i = 0; i < columns.Length; i++)
        {
            var t = columns[i] ?? string.Empty;
            var w = i < widths.Length ? widths[i] : t.Length;
            start.Append(t.Length >= w ? t : t.PadRight(w)).Append(' ');
        }

        var lead = start.ToString();
        if (string.IsNullOrWhiteSpace(rest))
        {
            return lead.TrimEnd();
        }

        var lines = Lines(rest, width - lead.Length);
        return string.Join('\n', lines.Select((l, i) => (i == 0 ? lead : new string(' ', lead.Length)) + l));
    }

    /// <summary>Column headings with their dashes, in the widths of <see cref="Row"/>.</summary>
    public static string Heading(string[] names, int[] widths) =>
        Row(int.MaxValue, names, widths, null) + "\n" + Row(int.MaxValue, names.Select(n => new string('-', n.Length)).ToArray(), widths, null);

    private static IEnumerable<string> Pieces(string word, int width)
    {
        while (word.Length > width)
        {
            var cut = word.LastIndexOfAny(['/', ',', '.', ';', ':', '='], width - 1);
            var at = cut > 0 ? cut + 1 : width;
            yield return word[..at];
            word = word[at..];
        }

        yield return word;
    }
}

using System.Management.Automation;
using System.Management.Automation.Language;

namespace LvsDirect.Completers;

/// <summary>
/// The machine-independent half of the completers: keeps the candidates that start with what was typed and
/// quotes them so the completed command line still parses.
/// </summary>
internal static class CompletionFilter
{
    /// <summary>Completion must answer while the user waits; a hung ip or arptables must not freeze the prompt.</summary>
    internal static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    // PowerShell treats the typographic quotes as quotes too.
    private const string SingleQuotes = "'\u2018\u2019\u201A\u201B";
    private const string DoubleQuotes = "\"\u201C\u201D\u201E";

    /// <summary>
    /// Candidates whose value starts with <paramref name="wordToComplete"/> (case-insensitive, an opening quote
    /// ignored), in the given order, without duplicates.
    /// </summary>
    internal static IEnumerable<CompletionResult> Filter(IEnumerable<(string Value, string ToolTip)> candidates, string? wordToComplete)
    {
        var word = wordToComplete ?? string.Empty;
        var quote = word.Length > 0 && (SingleQuotes + DoubleQuotes).Contains(word[0]) ? word[0] : (char?)null;
        var prefix = (quote is null ? word : word[1..]).TrimEnd(SingleQuotes.Concat(DoubleQuotes).ToArray());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (value, toolTip) in candidates)
        {
            if (string.IsNullOrEmpty(value) || !value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !seen.Add(value))
            {
                continue;
            }

            yield return new CompletionResult(Quote(value, quote), value, CompletionResultType.ParameterValue,
                string.IsNullOrEmpty(toolTip) ? value : toolTip);
        }
    }

    /// <summary>
    /// The text that stands for <paramref name="value"/> as one argument: bare when that is unambiguous, else
    /// quoted, keeping the quote the user opened with.
    /// </summary>
    internal static string Quote(string value, char? typedQuote = null)
    {
        if (typedQuote is char q && DoubleQuotes.Contains(q) && !value.Any(c => DoubleQuotes.Contains(c) || c is '$' or '`'))
        {
            return q + value + q;
        }

        if (typedQuote is null && IsBareWord(value))
        {
            return value;
        }

        return "'" + CodeGeneration.EscapeSingleQuotedStringContent(value) + "'";
    }

    /// <summary>
    /// Conservative: letters, digits and the punctuation of addresses and interface names that has no meaning
    /// in argument mode. Anything else (a space, $, @, #, a comma, a leading dash that would read as a
    /// parameter name) is quoted.
    /// </summary>
    private static bool IsBareWord(string value) =>
        value.Length > 0
        && !IsDash(value[0])
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '_' or '-' or '+' or '%' or '/');

    private static bool IsDash(char c) => c is '-' or '\u2013' or '\u2014' or '\u2015';
}

using System.Text;

namespace LvsDirect.Core.Tools;

/// <summary>
/// A native command described as data: program, argument vector and optional standard input. It is never
/// passed through a shell; <see cref="ToDisplayString"/> quotes it only so that -WhatIf and -Verbose can show
/// a line a person could paste.
/// </summary>
public sealed record ToolCommand(string Program, IReadOnlyList<string> Arguments, string? StandardInput = null)
{
    public static ToolCommand Create(string program, params string[] arguments) => new(program, arguments);

    public ToolCommand WithInput(string input) => this with { StandardInput = input };

    /// <summary>The command line, shell-quoted for display; standard input follows as a here-document.</summary>
    public string ToDisplayString()
    {
        // Sized up front: a batch's display is tens of thousands of characters, built for every step -WhatIf shows.
        var size = Program.Length + 16 + (StandardInput?.Length ?? 0);
        foreach (var a in Arguments)
        {
            size += a.Length + 3;
        }

        var sb = new StringBuilder(size).Append(Quote(Program));
        foreach (var a in Arguments)
        {
            sb.Append(' ').Append(Quote(a));
        }

        if (StandardInput is not null)
        {
            sb.Append(" <<'EOF'\n").Append(StandardInput);
            if (!StandardInput.EndsWith('\n'))
            {
                sb.Append('\n');
            }

            sb.Append("EOF");
        }

        return sb.ToString();
    }

    /// <summary>The command line with standard input summarised, for -Verbose where a 1000-line batch would drown the log.</summary>
    public string ToSummaryString()
    {
        var line = Quote(Program) + string.Concat(Arguments.Select(a => " " + Quote(a)));
        if (StandardInput is null)
        {
            return line;
        }

        // The non-empty lines, counted without splitting them out (an ip batch has thousands).
        var lines = 0;
        for (var rest = StandardInput.AsSpan(); !rest.IsEmpty;)
        {
            var end = rest.IndexOf('\n');
            lines += end == 0 ? 0 : 1;
            rest = end < 0 ? default : rest[(end + 1)..];
        }

        return $"{line} ({lines} line(s) on standard input)";
    }

    public override string ToString() => ToDisplayString();

    /// <summary>The characters a shell reads as themselves, so a word made of them needs no quotes.</summary>
    private static readonly System.Buffers.SearchValues<char> Plain =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:=,+@%");

    public static string Quote(string s)
    {
        if (s.Length > 0 && !s.AsSpan().ContainsAnyExcept(Plain))
        {
            return s;
        }

        return "'" + s.Replace("'", "'\\''") + "'";
    }
}

/// <summary>What a finished command produced.</summary>
public sealed record ToolResult(ToolCommand Command, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;
}

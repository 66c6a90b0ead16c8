using System.Text;
using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Parsing;

/// <summary>
/// Turns `arptables -L -n` into arptables-save text. arptables-nft-save resolves every --mangle-ip-s address
/// through reverse DNS (10 s per rule where DNS is unreachable, and a host name instead of an address where it
/// is); the numeric listing never does, and every flavor has it. The legacy arptables-save script does the same.
/// </summary>
public static partial class ArptablesListing
{
    public static readonly string[] ListArguments = ["-L", "-n"];

    [GeneratedRegex(@"^Chain\s+(\S+)\s+\(policy\s+([^\s)]+)")]
    private static partial Regex BuiltInChain();

    [GeneratedRegex(@"^Chain\s+(\S+)\s+\(")]
    private static partial Regex UserChain();

    public static string ToSaveText(string listing)
    {
        var builtIn = new StringBuilder();
        var user = new StringBuilder();
        var rules = new StringBuilder();
        string? chain = null;
        var lineNumber = 0;
        foreach (var raw in listing.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                continue;
            }

            // Rules (nearly every line) never start with "Chain": only chain headers go through the patterns.
            if (line.StartsWith("Chain", StringComparison.Ordinal))
            {
                var m = BuiltInChain().Match(line);
                if (m.Success)
                {
                    chain = m.Groups[1].Value;
                    builtIn.Append(':').Append(chain).Append(' ').Append(m.Groups[2].Value).Append('\n');
                    continue;
                }

                m = UserChain().Match(line);
                if (m.Success)
                {
                    chain = m.Groups[1].Value;
                    user.Append(':').Append(chain).Append(" -\n");
                    continue;
                }
            }

            if (chain is null)
            {
                throw new LvsException(LvsErrorKind.ParseError, $"arptables -L -n line {lineNumber} is a rule outside any chain: '{line}'.");
            }

            rules.Append("-A ").Append(chain).Append(' ').Append(line.Trim()).Append('\n');
        }

        return builtIn.Length == 0 ? string.Empty : $"*filter\n{builtIn}{user}{rules}";
    }
}

using System.Text;

namespace LvsDirect.Tests.Support;

/// <summary>Writes save-format test data as `arptables -L -n` prints it, which is what the module reads.</summary>
public static class Listing
{
    public static string FromSave(string saveText)
    {
        var chains = new List<(string Name, string Policy)>();
        var rules = new Dictionary<string, List<string>>();
        foreach (var line in saveText.Split('\n').Select(l => l.Trim()))
        {
            if (line.StartsWith(':'))
            {
                var parts = line[1..].Split(' ');
                chains.Add((parts[0], parts[1]));
                rules[parts[0]] = [];
            }
            else if (line.StartsWith("-A "))
            {
                var parts = line.Split(' ', 3);
                rules[parts[1]].Add(parts[2]);
            }
        }

        var sb = new StringBuilder();
        foreach (var (name, policy) in chains)
        {
            sb.Append("Chain ").Append(name).Append(policy == "-" ? " (0 references)" : $" (policy {policy})").Append('\n');
            foreach (var r in rules[name])
            {
                sb.Append(r).Append('\n');
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// The same rule set as LvsDirect now writes it: each seed-shaped drop/mangle rule moved from INPUT/OUTPUT into
    /// LVSDIRECT-IN/OUT, entered by a jump that is the first rule of INPUT/OUTPUT. Other rules stay where they are.
    /// </summary>
    public static string FromSaveInOwnChains(string saveText)
    {
        var lines = saveText.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        bool Own(string l) => System.Text.RegularExpressions.Regex.IsMatch(l, @"^-A (INPUT -j DROP -d \S+|OUTPUT -j mangle -s \S+ --mangle-ip-s \S+)$");
        var head = lines.Where(l => !l.StartsWith("-A ")).ToList();
        var rules = new List<string> { "-A INPUT -j LVSDIRECT-IN", "-A OUTPUT -j LVSDIRECT-OUT" };
        rules.AddRange(lines.Where(l => l.StartsWith("-A ") && !Own(l)));
        rules.AddRange(lines.Where(Own).Select(l => l.Replace("-A INPUT ", "-A LVSDIRECT-IN ").Replace("-A OUTPUT ", "-A LVSDIRECT-OUT ")));
        return FromSave(string.Join('\n', [.. head, ":LVSDIRECT-IN -", ":LVSDIRECT-OUT -", .. rules]) + "\n");
    }
}

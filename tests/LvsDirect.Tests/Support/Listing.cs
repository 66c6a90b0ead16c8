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
}

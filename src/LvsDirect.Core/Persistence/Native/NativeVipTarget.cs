using LvsDirect.Core.Agentless;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// The VIPs kept in the network stack's own configuration (Save-LvsVip's plan) as a persistence target, so that
/// Set-LvsRealServer -Persist runs it through the same plan and executor as its other targets. It is planned
/// after the suppression's own target has been written, so the boot-order check sees that file.
/// </summary>
public sealed class NativeVipTarget(NativeTarget target, string root, string savedRulesPath, IReadOnlyList<NativeVip> vips, Version? networkManager) : IPersistenceTarget
{
    /// <summary>Only this host's configuration is read: native targets are not offered over -Transport Ssh.</summary>
    public IEnumerable<string> FilesToRead => [];

    public PersistenceItem Plan(PersistenceInput input, IPersistenceHost host)
    {
        var missing = NativePersistence.MissingSuppression(vips, BootSuppression.Read(root, savedRulesPath));
        if (missing.Count > 0)
        {
            throw NativePersistence.SuppressionNotPersisted(missing, forceHint: false);
        }

        var files = NativeConfigFiles.Read(root, input.State.Interfaces.ToDictionary(i => i.Name, i => i.MacAddress), networkManager);
        var plans = NativePersistence.Plan(target, files, vips);
        if (plans.SelectMany(p => p.ProfileVips).ToList() is { Count: > 0 } profileVips)
        {
            throw NetworkManagerConfig.ProfileRefusal(files, profileVips);
        }

        var writes = new List<RemoteOperation>();
        var actions = new List<string>();
        foreach (var change in plans.SelectMany(p => p.Changes))
        {
            var full = System.IO.Path.Combine(root, change.Path);
            if (change.Removes)
            {
                if (host.Exists(full))
                {
                    writes.Add(new RemoteFileRemove(full));
                    actions.Add($"remove {full}");
                }
            }
            else if (host.ReadText(full) != change.Content)
            {
                writes.Add(new RemoteFileWrite(full, change.Content!, Convert.ToString((int)change.Mode, 8).PadLeft(4, '0')));
                actions.Add($"write {full}:\n{change.Content}");
            }
        }

        var chosen = string.Join(", ", plans.Where(p => p.Writes.Count > 0).Select(p => p.Target).Distinct());
        return new PersistenceItem
        {
            Path = root,
            Action = $"Keep {vips.Count} VIP(s) in the network configuration ({(chosen.Length > 0 ? chosen : target.ToString())}): {(actions.Count == 0 ? "up to date" : string.Join('\n', actions))}",
            Writes = writes,
            Count = vips.Count,
        };
    }
}

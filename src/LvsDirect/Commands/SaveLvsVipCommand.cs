using System.Management.Automation;
using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Persistence.Native;
using LvsDirect.Core.Tools;

namespace LvsDirect.Commands;

/// <summary>
/// Writes the managed VIPs into the host's own network configuration (systemd-networkd, netplan,
/// NetworkManager, ifupdown), in files of LvsDirect's own, so the stack itself brings them up at boot and keeps
/// them when it restarts or reapplies. Files LvsDirect did not write are never changed; with no VIP left its
/// files are removed. The VIPs' ARP suppression must load earlier at boot: without it the save is refused.
/// </summary>
[Cmdlet(VerbsData.Save, "LvsVip", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(NativeSaveResult))]
public sealed class SaveLvsVipCommand : PipedVipCmdlet
{
    /// <summary>The stack to write for; Auto picks, per interface, the stack that manages it.</summary>
    [Parameter(Position = 0)]
    public NativeTarget Target { get; set; } = NativeTarget.Auto;

    /// <summary>The root the configuration folders are below ("/" for this host), as `netplan generate --root-dir`.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Where the arptables method's rules are saved (Save-ArpSuppression -Path), as the booted host sees it, below -Path.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ArpRulesPath { get; set; } = SavedArpRulesTarget.DefaultPath;

    /// <summary>Writes the files even where a VIP's ARP suppression is not persisted (with a warning per VIP).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing() => Guard(() =>
    {
        if (Piped.Count == 0)
        {
            DemandRoot();
        }

        // A namespace made with ip netns shares the host's /etc, whose network configuration is the host's, not its own.
        if (Path is null && Scope.Kind == Core.Host.HostScopeKind.Named)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                "This runs in a network namespace made with ip netns, whose network the host's configuration in /etc does not describe; give -Path (the root of the configuration to write).", "Path");
        }

        var root = Path is null ? "/" : GetUnresolvedProviderPathFromPSPath(Path);
        var results = WithHostLockWhereRead(() => Save(root));
        WriteObject(results, enumerateCollection: true);
    });

    private List<NativeSaveResult> Save(string root)
    {
        var state = Piped.Count == 0 ? ReadSuppressionState(includeSysctls: true) : ReadState(false);
        var vips = Piped.Count == 0
            ? Core.Planning.VipListing.List(state, all: false, ReadOwnership()).Select(v => new NativeVip(v.Address, v.PrefixLength, v.InterfaceName, v.Label, v.Method)).ToList()
            : Piped.Where(o => IsManaged(o, "it is not saved; adopt it first (New-LvsVip -Adopt).")).Select(FromObject).ToList();
        var files = NativeConfigFiles.Read(root, state.Interfaces.ToDictionary(i => i.Name, i => i.MacAddress), Path is null ? NativeConfigFiles.ReadNetworkManagerVersion(Runner, CancellationToken) : null);
        var plans = NativePersistence.Plan(Target, files, vips);
        var profileVips = plans.SelectMany(p => p.ProfileVips).ToList();
        if (Path is not null && profileVips.Count > 0)
        {
            throw NetworkManagerConfig.ProfileRefusal(files, profileVips);
        }

        // The profiles are this host's running NetworkManager's, so a save into a folder (-Path) leaves them alone.
        var liveProfiles = Path is null && Target is NativeTarget.NetworkManager or NativeTarget.Auto;
        var profileRecord = NmProfileRecord.PathBeside(VipRecordPath);
        var owned = liveProfiles ? NmProfileRecord.Load(profileRecord) : [];
        var profileChanges = liveProfiles ? NetworkManagerProfiles.Plan(Runner, profileVips, owned, CancellationToken) : [];

        var missing = NativePersistence.MissingSuppression(vips, BootSuppression.Read(root, ArpRulesPath));
        if (missing.Count > 0 && !Force.IsPresent)
        {
            throw NativePersistence.SuppressionNotPersisted(missing, forceHint: true);
        }

        foreach (var (_, why) in missing)
        {
            WriteWarning(why);
        }

        var results = new List<NativeSaveResult>();
        foreach (var plan in plans)
        {
            foreach (var note in plan.Notes)
            {
                WriteVerbose($"{plan.Target}: {note}");
            }

            foreach (var change in plan.Changes)
            {
                if (Apply(root, plan, change) is { } result)
                {
                    results.Add(result);
                }
            }
        }

        results.AddRange(ApplyProfiles(profileChanges, owned, profileRecord));
        return results;
    }

    /// <summary>
    /// Runs each profile's nmcli command, then records what LvsDirect's addresses in the profiles are: a change
    /// declined (-WhatIf, -Confirm) keeps the profile's old entry.
    /// </summary>
    private List<NativeSaveResult> ApplyProfiles(IReadOnlyList<NmProfileChange> changes, IReadOnlyList<NmOwnedAddresses> owned, string recordPath)
    {
        var results = new List<NativeSaveResult>();
        var record = owned.ToDictionary(o => o.Uuid, StringComparer.Ordinal);
        try
        {
            foreach (var change in changes)
            {
                var target = $"NetworkManager connection {change.Uuid}" + (change.Name is null ? string.Empty : $" ({change.Name})");
                var gone = (record.GetValueOrDefault(change.Uuid)?.Addresses ?? []).Except(change.Owned).ToList();
                NativeFileAction action;
                if (change.Changes)
                {
                    if (!ShouldProcess($"{target}: {change.Command}", $"Change {target}?", "Save VIPs (NetworkManager)"))
                    {
                        continue;
                    }

                    Runner.RunChecked(change.Command, CancellationToken);
                    action = change.Owned.Count == 0 ? NativeFileAction.Removed : NativeFileAction.Written;
                }
                else if (gone.Count > 0)
                {
                    // Someone else removed them from the profile (or the profile itself): there is nothing left to remove.
                    if (!ShouldProcess($"{target} no longer holds {string.Join(", ", gone)}, which LvsDirect had added: forget them", $"Forget them for {target}?", "Save VIPs (NetworkManager)"))
                    {
                        continue;
                    }

                    action = NativeFileAction.Unchanged;
                }
                else
                {
                    WriteVerbose($"{target} already holds LvsDirect's VIPs on {change.InterfaceName}");
                    action = NativeFileAction.Unchanged;
                }

                record[change.Uuid] = new NmOwnedAddresses(change.Uuid, change.InterfaceName, change.Owned);
                results.Add(new NativeSaveResult
                {
                    Target = NativeTarget.NetworkManager,
                    Path = target,
                    Action = action,
                    VirtualIP = change.Owned,
                    Reason = [$"{change.InterfaceName}: the profile of its active connection; the addresses are live already, so the profile is not reapplied."],
                });
            }
        }
        finally
        {
            // Also after a failed nmcli: the profiles changed before it hold addresses that are LvsDirect's.
            NmProfileRecord.Save(recordPath, record.Values);
        }

        return results;
    }

    private NativeSaveResult? Apply(string root, NativePlan plan, NativeChange change)
    {
        var full = System.IO.Path.Combine(root, change.Path);
        var addresses = change.Vips.Select(v => v.Cidr).ToList();
        var existing = AtomicFile.ReadAllTextOrNull(full);
        NativeFileAction action;
        if (change.Removes)
        {
            if (!ShouldProcess($"Remove {full}: no VIP of LvsDirect needs it any more", $"Remove {full}?", $"Save VIPs ({plan.Target})"))
            {
                return null;
            }

            try
            {
                File.Delete(full);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new LvsException(LvsErrorKind.FileError, $"Cannot remove '{full}': {ex.Message}", full, ex);
            }

            action = NativeFileAction.Removed;
        }
        else if (existing == change.Content)
        {
            WriteVerbose($"{full} is already up to date");
            action = NativeFileAction.Unchanged;
        }
        else
        {
            if (!ShouldProcess($"Write {full} ({addresses.Count} VIP(s)):\n{change.Content}", $"Write {full}?", $"Save VIPs ({plan.Target})"))
            {
                return null;
            }

            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            AtomicFile.WriteAllText(full, change.Content!, change.Mode);
            action = NativeFileAction.Written;
        }

        return new NativeSaveResult { Target = plan.Target, Path = full, Action = action, VirtualIP = addresses, Reason = plan.Notes };
    }

    /// <summary>A piped VIP object as the native stacks take it: its address, interface, label and method.</summary>
    private static NativeVip FromObject(PSObject o)
    {
        var vip = ExportRcLocalCommand.FromObject(o);
        var method = Enum.TryParse<ArpMethod>(o.Properties["Method"]?.Value?.ToString(), ignoreCase: true, out var m) ? m : (ArpMethod?)null;
        return new NativeVip(vip.Address, vip.PrefixLength, vip.InterfaceName, vip.Label, method);
    }
}

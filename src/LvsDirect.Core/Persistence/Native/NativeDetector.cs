namespace LvsDirect.Core.Persistence.Native;

/// <summary>
/// Which stack manages an interface, from its configuration alone: netplan (it generates the others' files, so
/// it wins), then NetworkManager, systemd-networkd and ifupdown. Each answer says why, for -Verbose and the result.
/// </summary>
public static class NativeDetector
{
    public static (NativeTarget Target, string Why)? Detect(NativeConfigFiles files, string interfaceName)
    {
        var loopback = interfaceName == "lo";
        if (NetplanConfig.Definition(files, interfaceName) is { } d)
        {
            return (NativeTarget.Netplan, $"/{d.File} defines {interfaceName} ({d.Section}.{d.Id})");
        }

        var netplanUsed = NativeConfigFiles.NetplanFolders.SelectMany(files.In).Any(f => !NetplanConfig.IsOurs(f.Text));
        if (loopback && netplanUsed)
        {
            return (NativeTarget.Netplan, "netplan configures this host's network");
        }

        var nmProfile = NetworkManagerConfig.Profiles(files, interfaceName).FirstOrDefault();
        if (!loopback && nmProfile.Path is not null)
        {
            return (NativeTarget.NetworkManager, $"NetworkManager's profile /{nmProfile.Path} is bound to {interfaceName}");
        }

        if (loopback && files.NetworkManagerRunning && files.NetworkManagerVersion >= NetworkManagerConfig.LoopbackVersion)
        {
            return (NativeTarget.NetworkManager, $"NetworkManager {files.NetworkManagerVersion} runs and manages lo");
        }

        if (NetworkdConfig.MatchingFile(files, interfaceName) is { } network)
        {
            return (NativeTarget.Networkd, $"systemd-networkd configures {interfaceName} with /{network}");
        }

        if (loopback && files.NetworkdRunning)
        {
            return (NativeTarget.Networkd, "systemd-networkd runs on this host");
        }

        if (IfupdownConfig.Configures(files, interfaceName))
        {
            return (NativeTarget.Ifupdown, $"an iface stanza of /{NativeConfigFiles.IfupdownInterfaces} configures {interfaceName}");
        }

        return null;
    }

    /// <summary>The plan of one target for <paramref name="vips"/> (an empty list removes LvsDirect's files of that target).</summary>
    public static NativePlan Plan(NativeTarget target, NativeConfigFiles files, IReadOnlyList<NativeVip> vips) => target switch
    {
        NativeTarget.Networkd => NetworkdConfig.Plan(files, vips),
        NativeTarget.Netplan => NetplanConfig.Plan(files, vips),
        NativeTarget.NetworkManager => NetworkManagerConfig.Plan(files, vips),
        NativeTarget.Ifupdown => IfupdownConfig.Plan(files, vips),
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "Auto is resolved per interface first."),
    };

    /// <summary>Every VIP LvsDirect's native files bring up at boot, whichever stack's they are.</summary>
    public static IReadOnlyList<NativePersistedVip> ReadPersisted(NativeConfigFiles files) =>
        [.. NetworkdConfig.Read(files), .. NetplanConfig.Read(files), .. NetworkManagerConfig.Read(files), .. IfupdownConfig.Read(files)];
}

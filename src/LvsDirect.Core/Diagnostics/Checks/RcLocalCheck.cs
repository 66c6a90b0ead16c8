using LvsDirect.Core.Model;

namespace LvsDirect.Core.Diagnostics.Checks;

/// <summary>The boot file that holds LvsDirect's block runs at boot: rc.local executable, block where it runs; or LvsDirect's unit.</summary>
public sealed class RcLocalCheck : HostCheck
{
    public override string Name => CheckNames.RcLocal;

    public override HostReads Reads => HostReads.BootFiles;

    protected override RealServerCheck? Check(CheckContext context)
    {
        var p = context.Persisted;
        if (!p.HasBlock)
        {
            return null;
        }

        if (p.RcLocalPath?.EndsWith(".service", StringComparison.Ordinal) == true)
        {
            return context.Result(Name, p.RcLocalPath, CheckStatus.Pass,
                $"{p.RcLocalPath} is LvsDirect's systemd unit: it recreates the configuration at boot while enabled (systemctl is-enabled {Persistence.SystemdUnit.Name}).");
        }

        return context.Result(Name, p.RcLocalPath ?? "rc.local", p.BlockProblem is null ? CheckStatus.Pass : CheckStatus.Fail,
            p.BlockProblem is null
                ? $"{p.RcLocalPath} holds the LvsDirect block right where it runs and is executable, so rc-local.service runs it at boot."
                : $"{p.RcLocalPath} holds the LvsDirect block, but it cannot run at boot: {p.BlockProblem}.",
            p.BlockProblem is null ? null : CheckContext.BlockRemedy(p));
    }
}

using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Planning;

namespace LvsDirect.Commands;

/// <summary>Ensures the two arptables rules for each VIP; an OUT rule to another real IP is replaced.</summary>
[Cmdlet(VerbsCommon.Set, "ArpSuppression", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ArpSuppressionRule))]
public sealed class SetArpSuppressionCommand : LvsCmdlet
{
    private readonly List<(string Vip, string? InterfaceName, string? RealIP)> _requests = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completers.VipAddressCompleter))]
    public string[] VirtualIP { get; set; } = [];

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? RealIP { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completers.InterfaceNameCompleter))]
    public string? InterfaceName { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var v in VirtualIP)
        {
            _requests.Add((v, Optional(InterfaceName), Optional(RealIP)));
        }
    }

    protected override void EndProcessing() => Guard(() =>
    {
        DemandRoot();
        var parsed = _requests.Select(r => (Request: r, Vip: InputValidation.ParseCidr(r.Vip).Address)).ToList();
        var rules = WithHostLock(() =>
        {
            var state = ReadState(includeArpRules: true);
            var desired = new DesiredChange();
            foreach (var (r, vip) in parsed)
            {
                desired.EnsureSuppression.Add(new SuppressionRequest(vip, Resolve.RealIP(state, vip, r.InterfaceName, r.RealIP)));
            }

            var plan = Planner.Create(state, desired);
            if (!ExecutePlan(plan))
            {
                return [];
            }

            var dialect = state.RequireDialect();
            return desired.EnsureSuppression.DistinctBy(s => s.VirtualIP).Select(s => new ArpSuppressionRule
            {
                VirtualIP = s.VirtualIP,
                RealIP = s.RealIP,
                Flavor = dialect.Flavor,
                State = SuppressionState.Complete,
                Rules =
                [
                    Core.Parsing.ArptablesSyntax.RuleLine(dialect.InputChain, Core.Parsing.ArptablesSyntax.InputDropSpec(s.VirtualIP)),
                    Core.Parsing.ArptablesSyntax.RuleLine(dialect.OutputChain, Core.Parsing.ArptablesSyntax.OutputMangleSpec(s.VirtualIP, s.RealIP)),
                ],
            }).ToList();
        });

        if (PassThru.IsPresent)
        {
            WriteObject(rules, enumerateCollection: true);
        }
    });
}

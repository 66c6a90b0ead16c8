using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Core.Planning;

namespace LvsDirect.Core.Tools;

/// <summary>
/// Most LvsDirect commands run in a fresh process (a script, a boot-time call, <c>pwsh -c</c>), where the runtime
/// first has to load the types and prepare the code a command runs: for New-LvsVip that costs more than the
/// programs it starts. <see cref="Start"/>, called when the module is imported, does that preparation on a
/// background thread while the importing script goes on, by running the in-memory part of adding a suppressed
/// VIP to a made-up host: parsing ip's JSON and an arptables listing, validating, planning, the commands' text and
/// the ownership record, and a pipe drained the way a program's output is; it also starts the threads a command runs its jobs on (<see cref="Workers"/>). It starts no program, reads and writes no file and fills no cache a real command reads,
/// so it changes nothing a command does or returns; a command that starts before it is done just waits for the
/// pieces it needs, which is what it would have done anyway. LVSDIRECT_NO_WARMUP=1 turns it off.
/// </summary>
public static class Warmup
{
    public const string OptOutVariable = "LVSDIRECT_NO_WARMUP";

    private static int _started;

    /// <summary>The <see cref="Workers"/> threads started ahead of the first command.</summary>
    public const int PrestartedWorkers = 6;

    /// <summary>The made-up host: eth0 192.0.2.11/24 with its default route, LvsDirect's chains holding one VIP.</summary>
    private const string SampleIp =
        "[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\",\"UP\",\"LOWER_UP\"],\"operstate\":\"UNKNOWN\",\"address\":\"00:00:00:00:00:00\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"127.0.0.1\",\"prefixlen\":8,\"scope\":\"host\",\"label\":\"lo\"},{\"family\":\"inet6\",\"local\":\"::1\",\"prefixlen\":128,\"scope\":\"host\"}]},"
        + "{\"ifindex\":2,\"ifname\":\"eth0\",\"flags\":[\"BROADCAST\",\"MULTICAST\",\"UP\",\"LOWER_UP\"],\"operstate\":\"UP\",\"address\":\"02:00:00:00:00:11\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"192.0.2.11\",\"prefixlen\":24,\"broadcast\":\"192.0.2.255\",\"scope\":\"global\",\"label\":\"eth0\"},{\"family\":\"inet\",\"local\":\"192.0.2.200\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}]}]\n"
        + "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\",\"flags\":[]}]\n"
        + "[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\",\"flags\":[]},{\"dst\":\"192.0.2.0/24\",\"dev\":\"eth0\",\"protocol\":\"kernel\",\"scope\":\"link\",\"prefsrc\":\"192.0.2.11\",\"flags\":[]}]\n";

    private const string SampleListing =
        "Chain INPUT (policy ACCEPT)\n-j LVSDIRECT-IN\n\nChain OUTPUT (policy ACCEPT)\n-j LVSDIRECT-OUT\n\n"
        + "Chain LVSDIRECT-IN (1 references)\n-j DROP -d 192.0.2.200\n\n"
        + "Chain LVSDIRECT-OUT (1 references)\n-j mangle -s 192.0.2.200 --mangle-ip-s 192.0.2.11\n";

    /// <summary>Starts the preparation once per process, unless LVSDIRECT_NO_WARMUP is 1.</summary>
    public static void Start()
    {
        if (Environment.GetEnvironmentVariable(OptOutVariable) == "1" || Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        new Thread(() =>
        {
            // A first New-LvsVip keeps six jobs going at once (two reads, the record, the reads' outputs).
            Workers.Prestart(PrestartedWorkers);
            Run();
        })
        { IsBackground = true, Name = "LvsDirect warm-up" }.Start();
    }

    /// <summary>The preparation itself; returns the commands the made-up plan holds (tests check it did the work).</summary>
    public static IReadOnlyList<string> Run()
    {
        try
        {
            // PowerShell matches the manifest's export list against the cmdlets with culture-aware comparisons right
            // after this starts, and the first such comparison loads ICU's collation: done here, side by side.
            _ = string.Compare("LvsDirect", "lvsdirect", StringComparison.CurrentCultureIgnoreCase);
            _ = ProcessRunner.Prepare();
            var state = HostInspector.Compose(SampleIp, SampleListing, "arptables v1.8.9 (nf_tables)\n");
            var recorded = VipRecord.Parse(VipRecord.Render([new ManagedVip(System.Net.IPAddress.Parse("192.0.2.200"), 32, "eth0")]), "warm-up");
            var addition = VipAddition.Validate(
                [new NewVipRequest("192.0.2.200", "eth0", null, null, null, ArpMethod.Arptables), new NewVipRequest("192.0.2.201/32", "eth0", null, null, null, ArpMethod.Arptables)],
                suppress: true);
            var planned = addition.Plan(state, new Ownership(recorded), adopt: false, []);
            _ = new Ownership(recorded).Differs(planned.Added);
            _ = VipRecord.Render(planned.Added);
            return planned.Plan.Steps.Select(s => s.Command.ToDisplayString()).ToList();
        }
        catch (Exception)
        {
            // A preparation that fails only loses the first command its head start; the command itself reports
            // whatever is wrong with the real host.
            return [];
        }
    }
}

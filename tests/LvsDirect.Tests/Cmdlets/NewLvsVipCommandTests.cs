using System.Management.Automation;
using LvsDirect.Core.Model;
using LvsDirect.Core.Persistence;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

[Collection(CmdletCollection.Name)]
public class NewLvsVipCommandTests
{
    [Fact]
    public void NewLvsVip_AppliesSuppressionThenAddress_AndReturnsTypedVip()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("New-LvsVip -Address 203.0.113.100");

        Assert.Empty(errors);
        var vip = Assert.IsType<LvsVip>(Assert.Single(output).BaseObject);
        Assert.Equal("203.0.113.100/32", vip.Cidr);
        Assert.Equal("eth0", vip.InterfaceName);
        Assert.Equal("192.0.2.11", vip.RealIP!.ToString());
        Assert.Equal([.. Enumerable.Repeat("arptables", 6), "ip"], runner.Changes.Select(c => c.Program));
        Assert.Equal(["-N", "-I", "-N", "-I", "-A", "-A"], runner.Changes.SkipLast(1).Select(c => c.Arguments[0]));
    }

    // The change lines are built only when they are shown, so each way PowerShell decides that is checked.
    [Theory]
    [InlineData("New-LvsVip -Address 203.0.113.100 -Verbose 4>&1", true)]
    [InlineData("$VerbosePreference = 'Continue'; New-LvsVip -Address 203.0.113.100 4>&1", true)]
    [InlineData("$VerbosePreference = 'Continue'; New-LvsVip -Address 203.0.113.100 -Verbose:$false 4>&1", false)]
    [InlineData("New-LvsVip -Address 203.0.113.100 4>&1", false)]
    public void NewLvsVip_TellsEachChange_ExactlyWhenVerboseOutputIsShown(string script, bool shown)
    {
        using var host = new CmdletHost(FakeRunner.Host());

        var (output, errors, _) = host.Invoke(script);

        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => e.ToString())));
        var lines = output.Select(o => o.BaseObject).OfType<VerboseRecord>().Select(v => v.Message).ToList();
        Assert.Equal(shown, lines.Contains("Address 203.0.113.100: Added (203.0.113.100/32 added to eth0)"));
        Assert.Equal(shown, lines.Any(l => l.StartsWith("ArpSuppression 203.0.113.100: Added", StringComparison.Ordinal)));
    }

    [Fact]
    public void NewLvsVip_RecordsTheVipAsManaged_AndGetLvsVipListsOnlyManagedOnes()
    {
        var handMade = ",{\"family\":\"inet\",\"local\":\"203.0.113.5\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0:1\"}";
        var added = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";
        var runner = FakeRunner.Host(extraAddrInfo: handMade);
        using var host = new CmdletHost(runner);

        host.Invoke("New-LvsVip -Address 203.0.113.100");
        Assert.Equal(["203.0.113.100/32 eth0"], VipRecord.Load(host.RecordPath).Select(v => $"{v.Address}/{v.PrefixLength} {v.InterfaceName}"));

        using var after = new CmdletHost(FakeRunner.Host(extraAddrInfo: handMade + added), managed: ["203.0.113.100"]);
        var (managed, _, _) = after.Invoke("Get-LvsVip");
        var (all, _, _) = after.Invoke("Get-LvsVip -All");

        Assert.Equal(["203.0.113.100"], managed.Select(o => ((LvsVip)o.BaseObject).Address.ToString()));
        Assert.Equal(
            ["127.0.0.1 False", "192.0.2.11 False", "203.0.113.5 False", "203.0.113.100 True"],
            all.Select(o => (LvsVip)o.BaseObject).Select(v => $"{v.Address} {v.Managed}"));
    }

    [Fact]
    public void NewLvsVip_OnAVipItDidNotCreate_IsNotManaged_UnlessAdopted_AndWhatIfShowsTheAdoption()
    {
        var handMade = ",{\"family\":\"inet\",\"local\":\"203.0.113.5\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";
        var runner = FakeRunner.Host(extraAddrInfo: handMade);
        using var host = new CmdletHost(runner);

        var refused = host.InvokeFailing("New-LvsVip -Address 203.0.113.5");
        var removeRefused = host.InvokeFailing("Remove-LvsVip -Address 203.0.113.5");
        host.Invoke("New-LvsVip -Address 203.0.113.5 -Adopt -WhatIf");

        Assert.StartsWith("NotManaged,", refused.FullyQualifiedErrorId);
        Assert.StartsWith("NotManaged,", removeRefused.FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
        Assert.Contains(host.WhatIf, l => l.StartsWith("Adopt 203.0.113.5", StringComparison.Ordinal));
        Assert.False(File.Exists(host.RecordPath));

        var (_, errors, _) = host.Invoke("New-LvsVip -Address 203.0.113.5 -Adopt");

        Assert.Empty(errors);
        Assert.Equal(["203.0.113.5"], VipRecord.Load(host.RecordPath).Select(v => v.Address.ToString()));
    }

    [Fact]
    public void RemoveLvsVip_ForgetsTheVip()
    {
        var vip = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0\"}";
        var runner = FakeRunner.Host(extraAddrInfo: vip);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100", "203.0.113.101"]);

        var (_, errors, _) = host.Invoke("Remove-LvsVip -Address 203.0.113.100");

        Assert.Empty(errors);
        Assert.Equal(["203.0.113.101"], VipRecord.Load(host.RecordPath).Select(v => v.Address.ToString()));
    }

    [Fact]
    public void NewLvsVip_ShowsProgressPerStep_AndCompletesIt()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        host.Invoke("New-LvsVip -Address 203.0.113.100");

        // The engine throttles how often progress reaches the host, so intermediate records may be dropped;
        // the ones that arrive name their step, and the completed record carries the last step.
        var progress = host.Progress.Where(p => p.Activity == "New-LvsVip").ToList();
        Assert.NotEmpty(progress);
        // On a fresh host: both chains, both jumps, both rules, then the address.
        Assert.All(progress, p => Assert.Matches("^Step [1-7] of 7: ", p.StatusDescription));
        var completed = progress[^1];
        Assert.Equal(ProgressRecordType.Completed, completed.RecordType);
        Assert.StartsWith("Step 7 of 7: Add VIP address 203.0.113.100", completed.StatusDescription);
    }

    [Fact]
    public void NewLvsVip_ProgressOfABatch_NamesItsFirstAddressesAndCountsTheRest()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        host.Invoke("New-LvsVip -Address (1..20 | ForEach-Object { \"203.0.113.$_\" })");

        var completed = host.Progress.Where(p => p.Activity == "New-LvsVip").ToList()[^1];
        Assert.StartsWith("Step 7 of 7: Add VIP address 203.0.113.1/32 dev eth0, 203.0.113.2/32 dev eth0, ", completed.StatusDescription);
        // The 20 addresses are one batch; the line names the first ones and how many follow.
        var shown = completed.StatusDescription.Split(", and ")[0].Split(", ").Length;
        Assert.EndsWith($", and {20 - shown} more", completed.StatusDescription);
        Assert.True(completed.StatusDescription.Length < 160, completed.StatusDescription);
    }

    [Theory]
    [InlineData("203.0.113.1/32 dev eth0", "203.0.113.1/32 dev eth0")]
    [InlineData("eth0 1", "eth0 1")]
    public void BriefTarget_KeepsAShortTarget(string target, string expected) =>
        Assert.Equal(expected, LvsDirect.LvsCmdlet.BriefTarget(target));

    [Fact]
    public void BriefTarget_CutsAListAtASeparatorAndCountsWhatIsLeftOut()
    {
        var items = Enumerable.Range(1, 1000).Select(i => $"198.19.{i / 250}.{i % 250 + 1}").ToList();
        var brief = LvsDirect.LvsCmdlet.BriefTarget(string.Join(", ", items));

        var kept = brief.Split(", and ")[0].Split(", ");
        Assert.Equal(items.Take(kept.Length), kept);
        Assert.Equal($"{string.Join(", ", kept)}, and {1000 - kept.Length} more", brief);
        Assert.InRange(brief.Length, 50, 130);
        // A long word without a separator is left whole rather than cut mid-address.
        var word = new string('x', 300);
        Assert.Equal(word, LvsDirect.LvsCmdlet.BriefTarget(word));
    }

    [Fact]
    public void NewLvsVip_WhatIf_RunsNoChange()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("New-LvsVip -Address 203.0.113.100 -WhatIf");

        Assert.Empty(errors);
        Assert.Empty(output);
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void NewLvsVip_FailedSuppression_NeverAddsTheAddress()
    {
        var runner = FakeRunner.Host().On("arptables -A LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11", string.Empty, 4, "arptables: RULE_APPEND failed (Invalid argument)");
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing("New-LvsVip -Address 203.0.113.100");

        Assert.StartsWith("CommandFailed,", error.FullyQualifiedErrorId);
        Assert.Contains("RULE_APPEND failed", error.Exception.Message);
        Assert.DoesNotContain(runner.Changes, c => c.Program == "ip");
    }

    [Theory]
    [InlineData("New-LvsVip -Address 300.1.1.1", "InvalidAddress")]
    [InlineData("New-LvsVip -Address 10.1", "InvalidAddress")]
    [InlineData("New-LvsVip -Address '203.0.113.100;reboot'", "InvalidAddress")]
    [InlineData("New-LvsVip -Address 203.0.113.100/33", "InvalidPrefix")]
    [InlineData("New-LvsVip -Address 203.0.113.100 -InterfaceName nosuch0", "UnknownInterface")]
    [InlineData("New-LvsVip -Address 203.0.113.100 -InterfaceName 'eth0;ls'", "UnknownInterface")]
    [InlineData("New-LvsVip -Address 203.0.113.100 -Label other:1", "InvalidArgument")]
    public void NewLvsVip_BadInput_FailsWithStableIdAndChangesNothing(string script, string errorId)
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing(script);

        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void NewLvsVip_NotRoot_FailsBeforeRunningAnything()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner, isRoot: false);

        var error = host.InvokeFailing("New-LvsVip -Address 203.0.113.100");

        Assert.StartsWith("NotRoot,", error.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.PermissionDenied, error.CategoryInfo.Category);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public void NewLvsVip_MissingProgram_NamesThePackage()
    {
        var runner = FakeRunner.Host().Throw("arptables -L -n", Core.Tools.ToolLocator.NotFound("arptables"));
        using var host = new CmdletHost(runner);

        var error = host.InvokeFailing("New-LvsVip -Address 203.0.113.100");

        Assert.StartsWith("ProgramNotFound,", error.FullyQualifiedErrorId);
        Assert.Contains("'arptables' package", error.Exception.Message);
    }

    [Fact]
    public void GetLvsVip_PipesIntoRemoveLvsVip()
    {
        var save = "# Generated by arptables-save v1.8.9 (nf_tables)\n*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";
        var vip = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"secondary\":true,\"label\":\"eth0:1\"}";
        var runner = FakeRunner.Host(Listing.FromSaveInOwnChains(save), vip);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100"]);

        var (_, errors, _) = host.Invoke("Get-LvsVip | Remove-LvsVip");

        Assert.Empty(errors);
        var changes = runner.Changes.ToList();
        Assert.Equal("address del 203.0.113.100/32 dev eth0\n", changes[0].StandardInput);
        Assert.Equal("arptables -D LVSDIRECT-IN -d 203.0.113.100 -j DROP", changes[1].ToDisplayString());
        Assert.Equal("arptables -D LVSDIRECT-OUT -s 203.0.113.100 -j mangle --mangle-ip-s 192.0.2.11", changes[2].ToDisplayString());
        Assert.Equal(["arptables -D INPUT -j LVSDIRECT-IN", "arptables -X LVSDIRECT-IN", "arptables -D OUTPUT -j LVSDIRECT-OUT", "arptables -X LVSDIRECT-OUT"], changes.Skip(3).Select(c => c.ToDisplayString()));
    }

    [Theory]
    [InlineData("Remove-LvsVip -Address 192.0.2.11")]
    [InlineData("Remove-LvsVip -Address 192.0.2.11 -Force")]
    [InlineData("Remove-LvsVip -Address 192.0.2.11/24 -Force")]
    [InlineData("Remove-LvsVip -Address 192.0.2.11 -PrefixLength 24 -Force")]
    public void RemoveLvsVip_NeverRemovesThePrimaryAddress_NotEvenWithForce(string command)
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (_, errors, _) = host.Invoke(command);

        Assert.StartsWith("HostAddress,", Assert.Single(errors).FullyQualifiedErrorId);
        Assert.Empty(runner.Changes);
    }

    [Fact]
    public void NewLvsVip_BindsObjectsWithNullOptionalProperties()
    {
        var runner = FakeRunner.Host();
        using var host = new CmdletHost(runner);

        var (output, errors, _) = host.Invoke("[pscustomobject]@{ Address = '203.0.113.5'; InterfaceName = 'eth0'; Label = $null; RealIP = ''; Broadcast = $null } | New-LvsVip");

        Assert.Empty(errors);
        Assert.Equal("192.0.2.11", Assert.IsType<LvsVip>(Assert.Single(output).BaseObject).RealIP!.ToString());
    }

    [Fact]
    public void RemoveLvsVip_FromOneInterface_KeepsSuppressionForTheCopyThatStays()
    {
        var save = "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n-A INPUT -j DROP -d 203.0.113.100\n-A OUTPUT -j mangle -s 203.0.113.100 --mangle-ip-s 192.0.2.11\n";
        var onEth0 = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"eth0\"}";
        var onLo = ",{\"family\":\"inet\",\"local\":\"203.0.113.100\",\"prefixlen\":32,\"scope\":\"global\",\"label\":\"lo\"}";
        var runner = FakeRunner.Host(Listing.FromSaveInOwnChains(save), onEth0, extraLoAddrInfo: onLo);
        using var host = new CmdletHost(runner, managed: ["203.0.113.100"]);

        var (_, errors, _) = host.Invoke("Remove-LvsVip -Address 203.0.113.100 -InterfaceName eth0 -WarningAction SilentlyContinue");

        Assert.Empty(errors);
        Assert.Equal(["ip -batch -"], runner.Changes.Select(c => c.Program + " " + string.Join(' ', c.Arguments)));
        Assert.Equal("address del 203.0.113.100/32 dev eth0\n", runner.Changes.Single().StandardInput);
    }
}

using System.Management.Automation;
using LvsDirect.Core.Config;
using LvsDirect.Tests.Config;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Cmdlets;

[Collection(CmdletCollection.Name)]
public class ImportLvsConfigCommandTests
{
    private static (IReadOnlyList<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, IReadOnlyList<string> Warnings) Run(string script)
    {
        using var host = new CmdletHost(FakeRunner.Host());
        var (output, errors, _) = host.Invoke("$w = $null; " + script + " -WarningVariable w -WarningAction SilentlyContinue; $w");
        output = output.Where(o => o is not null).ToList();
        var warnings = output.Where(o => o.BaseObject is WarningRecord).Select(o => ((WarningRecord)o.BaseObject).Message).ToList();
        return (output.Where(o => o.BaseObject is not WarningRecord).ToList(), errors, warnings);
    }

    [Fact]
    public void ImportLvsConfig_Keepalived_ReturnsTypedDrServices_AndWarnsForEachSkippedOne()
    {
        var (output, errors, warnings) = Run($"Import-LvsConfig -Path '{ConfigFixture.PathOf("keepalived", "keepalived.conf")}'");

        Assert.Empty(errors);
        var services = output.Select(o => Assert.IsType<LvsVirtualService>(o.BaseObject)).ToList();
        Assert.Equal(["tcp 192.0.2.100:80", "udp [2001:db8::100]:53", "tcp 192.0.2.120:25", "udp 192.0.2.130:53"], services.Select(s => s.ToString()));
        Assert.Contains(warnings, w => w.StartsWith("Skipped: NAT service 192.0.2.101:443", StringComparison.Ordinal) && w.Contains("keepalived.conf line 48"));
        Assert.Contains(warnings, w => w.StartsWith("Skipped: firewall-mark service 7", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("Skipped: tunnel service 192.0.2.110:80", StringComparison.Ordinal));
        Assert.Equal(7, warnings.Count);
    }

    [Fact]
    public void ImportLvsConfig_NatPiranha_WarnsAndReturnsNothing()
    {
        var (output, errors, warnings) = Run($"Import-LvsConfig '{ConfigFixture.PathOf("piranha", "lvs-nat.cf")}' -Format Piranha");

        Assert.Empty(errors);
        Assert.Empty(output);
        Assert.StartsWith("Skipped: NAT service 192.0.2.100:21 in ", Assert.Single(warnings));
    }

    [Fact]
    public void ImportLvsConfig_PipedFileObjectsAndWildcards_ParseErrorIsPerFileAndOthersGoOn()
    {
        var folder = ConfigFixture.PathOf("keepalived");
        var (output, errors, _) = Run($"[pscustomobject]@{{ FullName = '{folder}/unbalanced.conf' }}, [pscustomobject]@{{ FullName = '{ConfigFixture.PathOf("piranha", "lvs.cf")}' }} | Import-LvsConfig");

        var error = Assert.Single(errors);
        Assert.StartsWith("ParseError,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ParserError, error.CategoryInfo.Category);
        Assert.Contains("unbalanced.conf line 1", error.Exception.Message);
        Assert.Equal(["web", "dns"], output.Select(o => ((LvsVirtualService)o.BaseObject).Name));

        var (wild, wildErrors, _) = Run($"Import-LvsConfig '{ConfigFixture.PathOf("ipvsadm")}/ipvsadm-*.txt'");
        Assert.Empty(wildErrors);
        Assert.Equal(["tcp 192.0.2.100:80", "tcp [2001:db8::100]:80", "tcp 192.0.2.100:80", "tcp [2001:db8::100]:80"], wild.Select(o => o.BaseObject.ToString()));
    }

    [Fact]
    public void ImportLvsConfig_MissingFile_IsANonTerminatingFileError()
    {
        var (output, errors, _) = Run("Import-LvsConfig /nonexistent/keepalived.conf");

        Assert.Empty(output);
        Assert.StartsWith("FileError,", Assert.Single(errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void ImportLvsConfig_ConfigId_ReadsThatDirectorsConditionalLines()
    {
        var path = ConfigFixture.PathOf("keepalived", "kw", "conditional.conf");
        var (without, _, warned) = Run($"Import-LvsConfig '{path}'");
        var (with, errors, _) = Run($"Import-LvsConfig '{path}' -ConfigId main");

        Assert.Empty(errors);
        Assert.Equal(["192.0.2.42:80"], ((LvsVirtualService)Assert.Single(without).BaseObject).RealServers.Select(r => r.ToString()));
        Assert.Contains(warned, w => w.Contains("-ConfigId main", StringComparison.Ordinal));
        Assert.Equal(["192.0.2.41:80"], ((LvsVirtualService)Assert.Single(with).BaseObject).RealServers.Select(r => r.ToString()));
    }

    [Fact]
    public void ImportLvsConfig_ServicesPath_ResolvesPiranhaPortNames_AndADirectoryIsAFileError()
    {
        var (output, errors, _) = Run($"Import-LvsConfig '{ConfigFixture.PathOf("piranha", "lvs-portnames.cf")}' -ServicesPath '{ConfigFixture.PathOf("piranha", "services")}'");

        Assert.Empty(errors);
        Assert.Equal(["tcp 192.0.2.101:21", "tcp 192.0.2.102:80"], output.Select(o => o.BaseObject.ToString()));

        var (_, dirErrors, _) = Run($"Import-LvsConfig '{ConfigFixture.PathOf("keepalived", "kw")}'");
        var error = Assert.Single(dirErrors);
        Assert.StartsWith("FileError,", error.FullyQualifiedErrorId);
        Assert.Contains("is a directory", error.Exception.Message);
    }
}

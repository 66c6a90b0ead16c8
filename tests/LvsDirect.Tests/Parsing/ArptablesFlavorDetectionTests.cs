using LvsDirect.Core.Host;
using LvsDirect.Core.Model;
using LvsDirect.Core.Tools;
using LvsDirect.Tests.Support;
using Xunit;

namespace LvsDirect.Tests.Parsing;

/// <summary>Which arptables a host has: from where its program links to, or else from `arptables -V`.</summary>
public sealed class ArptablesFlavorDetectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lvsdirect-flavor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The fake host, with arptables found at a link this test made (as update-alternatives makes them).</summary>
    private sealed class LinkedArptables(FakeRunner inner, string path) : IProcessRunner
    {
        public ToolResult Run(ToolCommand command, CancellationToken cancellationToken = default) => inner.Run(command, cancellationToken);

        public string? Locate(string program) => program == "arptables" ? path : inner.Locate(program);
    }

    private string LinkTo(string binary)
    {
        var target = Path.Combine(_dir, binary);
        File.WriteAllText(target, "#!/bin/sh\n");
        var alternative = Path.Combine(_dir, "arptables-alternative");
        File.CreateSymbolicLink(alternative, target);
        var link = Path.Combine(_dir, "arptables");
        File.CreateSymbolicLink(link, alternative);
        return link;
    }

    [Fact]
    public void LinkToTheNftMultiCallBinary_IsNft_WithoutStartingArptables()
    {
        var fake = FakeRunner.Host(version: "arptables v0.0.5 (legacy)");

        var flavor = new HostInspector(new LinkedArptables(fake, LinkTo(HostInspector.NftMultiCallBinary))).DetectFlavor(CancellationToken.None);

        Assert.Equal(ArptablesFlavor.Nft, flavor);
        Assert.DoesNotContain(fake.Commands, c => c.Program == "arptables");
    }

    [Fact]
    public void AnyOtherBinary_IsAskedForItsVersion()
    {
        var fake = FakeRunner.Host(version: "arptables v0.0.5 (legacy)");

        var flavor = new HostInspector(new LinkedArptables(fake, LinkTo("arptables-legacy"))).DetectFlavor(CancellationToken.None);

        Assert.Equal(ArptablesFlavor.Legacy, flavor);
        Assert.Contains(fake.Commands, c => c.ToDisplayString() == "arptables -V");
    }
}

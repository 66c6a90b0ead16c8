using LvsDirect.Core.Errors;
using LvsDirect.Core.Model;
using Xunit;

namespace LvsDirect.Tests.Output;

/// <summary>A refused label is refused for the rule it breaks, in words that name it.</summary>
public sealed class LabelMessageTests
{
    [Theory]
    [InlineData("eth0:1;ls", "contains ';'")]
    [InlineData("eth0: x", "contains a space")]
    [InlineData("eth0:a b;c", "contains a space, ';'")]
    [InlineData("eth0:\tx", "contains a tab")]
    [InlineData("eth1:1", "does not start with the interface name 'eth0'")]
    [InlineData("eth0:12345678901", "is 16 characters long; the kernel allows at most 15")]
    public void ValidateLabel_NamesWhatIsWrong(string label, string expected)
    {
        var ex = Assert.Throws<LvsException>(() => InputValidation.ValidateLabel(label, "eth0"));

        Assert.Equal(LvsErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(expected, ex.Message);
        Assert.Contains("for example eth0:1", ex.Message);
        Assert.Equal(label, ex.Target);
    }

    [Fact]
    public void ValidateLabel_ACharacterProblem_DoesNotClaimTheLabelMissesTheInterfaceName()
    {
        var ex = Assert.Throws<LvsException>(() => InputValidation.ValidateLabel("eth0:1;ls", "eth0"));

        Assert.DoesNotContain("start with", ex.Message);
        Assert.Contains("letters, digits and _ . @ : -", ex.Message);
    }

    [Theory]
    [InlineData("eth0")]
    [InlineData("eth0:1")]
    [InlineData("eth0:web-1.a_b@")]
    public void ValidateLabel_AcceptsWhatTheKernelAccepts(string label) =>
        Assert.Equal(label, InputValidation.ValidateLabel(label, "eth0"));
}

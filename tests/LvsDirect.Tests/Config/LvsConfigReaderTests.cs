using LvsDirect.Core.Config;
using LvsDirect.Core.Errors;
using Xunit;

namespace LvsDirect.Tests.Config;

public class LvsConfigReaderTests
{
    [Theory]
    [InlineData(LvsConfigFormat.Keepalived, "keepalived", "keepalived.conf")]
    [InlineData(LvsConfigFormat.Keepalived, "keepalived", "large-200.conf")]
    [InlineData(LvsConfigFormat.Piranha, "piranha", "lvs.cf")]
    [InlineData(LvsConfigFormat.Ipvsadm, "ipvsadm", "ipvsadm-save.txt")]
    [InlineData(LvsConfigFormat.Ipvsadm, "ipvsadm", "ipvsadm-Ln.txt")]
    public void Detect_TellsEachFixturesFormatFromItsContent(LvsConfigFormat expected, string folder, string file)
    {
        Assert.Equal(expected, LvsConfigReader.Detect(ConfigFixture.Text(folder, file)));
    }

    [Fact]
    public void Read_Auto_ParsesTheDetectedFormat()
    {
        Assert.Equal(2, LvsConfigReader.Read(ConfigFixture.PathOf("piranha", "lvs.cf")).Services.Count);
        Assert.Equal(11, LvsConfigReader.ReadAll(ConfigFixture.PathOf("keepalived", "keepalived.conf"), LvsConfigFormat.Auto, new LvsConfigOptions(), []).Count);
        Assert.Equal(4, LvsConfigReader.Read(ConfigFixture.PathOf("keepalived", "keepalived.conf")).Services.Count);
    }

    [Fact]
    public void Read_UnknownContent_IsParseError()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "hello world\n");
            Assert.Equal(LvsErrorKind.ParseError, Assert.Throws<LvsException>(() => LvsConfigReader.Read(path)).Kind);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

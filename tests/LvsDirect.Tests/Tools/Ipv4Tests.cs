using System.Net;
using LvsDirect.Core.Model;
using Xunit;

namespace LvsDirect.Tests.Tools;

/// <summary>An IPv4 address as a number, first octet highest, and back.</summary>
public sealed class Ipv4Tests
{
    [Theory]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("1.2.3.4", 0x01020304u)]
    [InlineData("192.0.2.255", 0xC00002FFu)]
    [InlineData("255.255.255.255", uint.MaxValue)]
    public void Value_IsTheOctetsInOrder_AndAddressGivesTheSameAddressBack(string text, uint value)
    {
        var address = IPAddress.Parse(text);

        Assert.Equal(value, Ipv4.Value(address));
        Assert.Equal(address, Ipv4.Address(value));
        Assert.Equal(address.GetAddressBytes()[0], Ipv4.FirstOctet(address));
    }
}

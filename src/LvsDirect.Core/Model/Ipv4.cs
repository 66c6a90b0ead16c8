using System.Buffers.Binary;
using System.Net;

namespace LvsDirect.Core.Model;

/// <summary>
/// An IPv4 address as a number, first octet highest (1.2.3.4 is 0x01020304). IPAddress's own byte methods
/// are generic over spans and are compiled at run time in every fresh process, and GetAddressBytes allocates an array
/// per call; a batch of VIPs asks this for each of them.
/// </summary>
public static class Ipv4
{
    /// <summary>The number of an IPv4 <paramref name="address"/> (not for IPv6).</summary>
    public static uint Value(IPAddress address)
    {
#pragma warning disable CS0618 // Address is obsolete for its IPv6 confusion only: it holds the IPv4 octets in network order.
        var raw = (uint)address.Address;
#pragma warning restore CS0618
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(raw) : raw;
    }

    /// <summary>The IPv4 address of that number.</summary>
    public static IPAddress Address(uint value) =>
        new(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    /// <summary>The first octet.</summary>
    public static int FirstOctet(IPAddress address) => (int)(Value(address) >> 24);
}

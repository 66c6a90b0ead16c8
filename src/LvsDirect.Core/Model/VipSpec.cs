using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using LvsDirect.Core.Errors;

namespace LvsDirect.Core.Model;

/// <summary>Validated user input: addresses, prefixes, interface names and labels. Nothing runs before these pass.</summary>
public static partial class InputValidation
{
    [GeneratedRegex(@"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$")]
    private static partial Regex DottedQuad();

    // Linux interface names: at most 15 bytes, no '/', ':' or white space.
    [GeneratedRegex(@"^[A-Za-z0-9_.@-]{1,15}$")]
    private static partial Regex InterfaceNamePattern();

    /// <summary>
    /// Parses a dotted-quad IPv4 address strictly. IPAddress.Parse alone would accept "1" or "10.1" and turn them
    /// into addresses nobody meant.
    /// </summary>
    public static IPAddress ParseIPv4(string? text, string what = "address")
    {
        var s = text?.Trim() ?? string.Empty;
        if (TryParseDecimalQuad(s, out var quick))
        {
            return quick;
        }

        var m = DottedQuad().Match(s);
        if (!m.Success || m.Groups.Values.Skip(1).Any(g => int.Parse(g.Value, CultureInfo.InvariantCulture) > 255))
        {
            var hint = s.Contains(':') ? " IPv6 addresses are accepted only as VIPs (New-LvsVip, Get-LvsVip, Remove-LvsVip)." : string.Empty;
            throw new LvsException(LvsErrorKind.InvalidAddress, $"'{text}' is not a valid IPv4 {what}.{hint}", text);
        }

        // iproute2 and .NET read "011" as octal (9): the address would silently not be the one written.
        var padded = m.Groups.Values.Skip(1).FirstOrDefault(g => g.Value.Length > 1 && g.Value[0] == '0');
        if (padded is not null)
        {
            var decimalForm = string.Join('.', m.Groups.Values.Skip(1).Select(g => int.Parse(g.Value, CultureInfo.InvariantCulture)));
            var octal = IPAddress.TryParse(s, out var asOctal) ? $"octal, so it would be {asOctal}" : "octal, and it is no octal number";
            throw new LvsException(LvsErrorKind.InvalidAddress,
                $"'{text}' has a leading zero in '{padded.Value}': ip and .NET read that as {octal}. Write the {what} without leading zeros ({decimalForm} if you meant decimal).",
                text);
        }

        return IPAddress.Parse(s);
    }

    /// <summary>
    /// The common case without a regex: four decimal numbers 0-255 in ASCII digits, none with a leading zero. A
    /// thousand VIPs are parsed on every call; anything else takes the checks above, which explain what is wrong.
    /// </summary>
    private static bool TryParseDecimalQuad(ReadOnlySpan<char> s, out IPAddress address)
    {
        address = IPAddress.None;
        var number = 0u;
        for (var octet = 0; octet < 4; octet++)
        {
            var digits = 0;
            var value = 0;
            while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            {
                value = (value * 10) + (s[digits] - '0');
                digits++;
            }

            if (digits is 0 or > 3 || value > 255 || (digits > 1 && s[0] == '0'))
            {
                return false;
            }

            number = (number << 8) | (uint)value;
            s = s[digits..];
            if (octet < 3)
            {
                if (s.IsEmpty || s[0] != '.')
                {
                    return false;
                }

                s = s[1..];
            }
        }

        if (!s.IsEmpty)
        {
            return false;
        }

        address = Ipv4.Address(number);
        return true;
    }

    /// <summary>Parses "IP" or "IP/prefix"; the prefix defaults to <paramref name="defaultPrefix"/>.</summary>
    public static (IPAddress Address, int PrefixLength) ParseCidr(string? text, int defaultPrefix = 32)
    {
        var s = text?.Trim() ?? string.Empty;
        var slash = s.IndexOf('/');
        var address = ParseIPv4(slash < 0 ? s : s[..slash]);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new LvsException(LvsErrorKind.InvalidAddress, $"'{text}' is not an IPv4 address.", text);
        }

        if (slash < 0)
        {
            return (address, defaultPrefix);
        }

        var p = s[(slash + 1)..];
        if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix < 1 || prefix > 32)
        {
            throw new LvsException(LvsErrorKind.InvalidPrefix, $"'{p}' in '{text}' is not a valid IPv4 prefix length (1 to 32).", text);
        }

        return (address, prefix);
    }

    /// <summary>
    /// Parses a VIP: IPv4 under the strict rules of <see cref="ParseCidr"/>, or IPv6 ("IP" or "IP/prefix", default
    /// /128). An IPv6 zone (%eth0) is refused: a VIP is a global address. A <paramref name="defaultPrefix"/> of 0
    /// means "any prefix" and is kept for both families.
    /// </summary>
    public static (IPAddress Address, int PrefixLength) ParseVipCidr(string? text, int defaultPrefix = 32)
    {
        var s = text?.Trim() ?? string.Empty;
        if (!s.Contains(':'))
        {
            return ParseCidr(text, defaultPrefix);
        }

        var slash = s.IndexOf('/');
        var a = slash < 0 ? s : s[..slash];
        if (a.Contains('%') || !a.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
            || !IPAddress.TryParse(a, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new LvsException(LvsErrorKind.InvalidAddress, $"'{text}' is not a valid IPv6 address.", text);
        }

        Planning.VipValidation.RequireClass(address);

        if (slash < 0)
        {
            return (address, defaultPrefix == 0 ? 0 : 128);
        }

        var p = s[(slash + 1)..];
        if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix < 1 || prefix > 128)
        {
            throw new LvsException(LvsErrorKind.InvalidPrefix, $"'{p}' in '{text}' is not a valid IPv6 prefix length (1 to 128).", text);
        }

        return (address, prefix);
    }

    public static string ValidateInterfaceName(string name)
    {
        if (!InterfaceNamePattern().IsMatch(name))
        {
            throw new LvsException(LvsErrorKind.UnknownInterface, $"'{name}' is not a valid interface name.", name);
        }

        return name;
    }

    /// <summary>
    /// An address label must be the interface name or start with it, and fit IFNAMSIZ (iproute2 and the kernel
    /// insist). Each refusal names the one rule the label breaks, the characters first: a label with a ';' or a
    /// space does start with the interface name, and saying otherwise sends the user looking in the wrong place.
    /// </summary>
    public static string ValidateLabel(string label, string interfaceName)
    {
        var example = $"for example {interfaceName}:1";
        var bad = label.Where(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '@' or ':' or '-')).Distinct().ToList();
        if (bad.Count > 0)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                $"The label '{label}' contains {string.Join(", ", bad.Select(DescribeCharacter))}: a label may hold only letters, digits and _ . @ : - ({example}).",
                label);
        }

        if (!label.StartsWith(interfaceName, StringComparison.Ordinal))
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                $"The label '{label}' does not start with the interface name '{interfaceName}', which the kernel requires ({example}).",
                label);
        }

        if (label.Length > 15)
        {
            throw new LvsException(LvsErrorKind.InvalidArgument,
                $"The label '{label}' is {label.Length} characters long; the kernel allows at most 15 ({example}).",
                label);
        }

        return label;
    }

    private static string DescribeCharacter(char c) => c switch
    {
        ' ' => "a space",
        '\t' => "a tab",
        _ when char.IsControl(c) || char.IsWhiteSpace(c) => $"the character U+{(int)c:X4}",
        _ => $"'{c}'",
    };
}

using System.Globalization;

namespace Folio.Core.Text.Jinja;

/// <summary>
/// Formats doubles as JavaScript's <c>Number.prototype.toString</c> does (shortest round-trip digits; plain
/// notation for 1e-7 &lt; |x| &lt; 1e21, else exponent notation like <c>1e+21</c>), because
/// @huggingface/jinja prints numbers that way and the parity test compares bytes.
/// </summary>
internal static class JsNumberFormat
{
    public static string Format(double value)
    {
        if (double.IsNaN(value))
            return "NaN";
        if (double.IsInfinity(value))
            return value > 0 ? "Infinity" : "-Infinity";
        if (value == 0)
            return "0";
        string sign = value < 0 ? "-" : "";
        // "E16" is not shortest; "R" is shortest round-trip. Split it into digits and a decimal exponent.
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        int exp = 0;
        string mantissa = r;
        if (e >= 0)
        {
            exp = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = r[..e];
        }
        int dot = mantissa.IndexOf('.');
        string digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        int pointPos = (dot >= 0 ? dot : mantissa.Length) + exp;   // value = 0.digits... shifted: digits[0..pointPos]
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
            lead++;
        digits = digits[lead..];
        pointPos -= lead;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
            return "0";
        int k = digits.Length, n = pointPos;
        string body;
        if (k <= n && n <= 21)
            body = digits + new string('0', n - k);
        else if (0 < n && n <= 21)
            body = digits[..n] + "." + digits[n..];
        else if (-6 < n && n <= 0)
            body = "0." + new string('0', -n) + digits;
        else
        {
            int e10 = n - 1;
            body = digits[..1] + (k > 1 ? "." + digits[1..] : "") + "e" + (e10 >= 0 ? "+" : "-") + Math.Abs(e10).ToString(CultureInfo.InvariantCulture);
        }
        return sign + body;
    }

    /// <summary>How @huggingface/jinja prints a float value: an integral float keeps one decimal (<c>2.0</c>).</summary>
    public static string FormatFloat(double value)
    {
        if (value == 0 && double.IsNegative(value))
            return "-0.0";
        if (double.IsFinite(value) && value % 1 == 0 && Math.Abs(value) < 1e21)
            return value.ToString("F1", CultureInfo.InvariantCulture);
        return Format(value);
    }
}

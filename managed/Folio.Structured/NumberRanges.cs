using System.Numerics;

namespace Folio.Structured;

/// <summary>
/// Decimal texts of numbers within bounds, as expressions: integers in [lo, hi] (either side open), and
/// non-exponent decimals within integer bounds. JSON forms only (no leading zeros, no "-0" for integers).
/// </summary>
internal static class NumberRanges
{
    private static RxNode Digit => RxNode.Chars([('0', '9')]);
    private static RxNode Digits(int n) => RxNode.Repeat(Digit, n, n);

    /// <summary>Integers lo ≤ v ≤ hi (null = unbounded).</summary>
    public static RxNode Integers(BigInteger? lo, BigInteger? hi)
    {
        if (lo is { } l && hi is { } h && l > h) return RxNode.Nothing;
        var parts = new List<RxNode>();
        // Non-negative part.
        if (hi is null || hi >= 0)
            parts.Add(NonNegative(lo is { } a && a > 0 ? a : 0, hi));
        // Negative part: v in [lo, min(hi, -1)] ⇔ -v in [max(-hi, 1), -lo].
        if (lo is null || lo < 0)
        {
            BigInteger negLo = hi is { } b && b < -1 ? -b : 1;
            parts.Add(RxNode.Seq(RxNode.Char('-'), NonNegative(negLo, lo is { } c ? -c : null)));
        }
        return RxNode.Alt(parts);
    }

    /// <summary>Non-negative integers in [a, b] (b null = unbounded), a ≥ 0.</summary>
    public static RxNode NonNegative(BigInteger a, BigInteger? b)
    {
        if (b is { } bb && a > bb) return RxNode.Nothing;
        string sa = a.ToString();
        if (b is null)
        {
            // [a, 10^len(a) - 1] or any longer number.
            var longer = RxNode.Seq(RxNode.Chars([('1', '9')]), RxNode.Repeat(Digit, sa.Length, -1));
            return RxNode.Alt(Finite(a, BigInteger.Pow(10, sa.Length) - 1), longer);
        }
        return Finite(a, b.Value);
    }

    private static RxNode Finite(BigInteger a, BigInteger b)
    {
        string sa = a.ToString(), sb = b.ToString();
        if (sa.Length == sb.Length) return SameLength(sa, sb);
        var parts = new List<RxNode> { SameLength(sa, new string('9', sa.Length)) };
        for (int len = sa.Length + 1; len < sb.Length; len++)
            parts.Add(RxNode.Seq(RxNode.Chars([('1', '9')]), Digits(len - 1)));
        parts.Add(SameLength("1" + new string('0', sb.Length - 1), sb));
        return RxNode.Alt(parts);
    }

    /// <summary>Digit strings of one length between sa and sb inclusive (sa ≤ sb).</summary>
    private static RxNode SameLength(string sa, string sb)
    {
        if (sa.Length == 0) return RxNode.Empty;
        // Every digit string of this length: without this the two outer branches below recurse into full ranges
        // again, 2^n nodes for n digits (a maximum of 2^63 built 400,000 automaton states in 7 s, then failed).
        if (sa.All(c => c == '0') && sb.All(c => c == '9')) return Digits(sa.Length);
        if (sa[0] == sb[0]) return RxNode.Seq(RxNode.Char(sa[0]), SameLength(sa[1..], sb[1..]));
        int n = sa.Length - 1;
        var parts = new List<RxNode>
        {
            RxNode.Seq(RxNode.Char(sa[0]), SameLength(sa[1..], new string('9', n))),
        };
        if (sb[0] - sa[0] > 1) parts.Add(RxNode.Seq(RxNode.Chars([(sa[0] + 1, sb[0] - 1)]), Digits(n)));
        parts.Add(RxNode.Seq(RxNode.Char(sb[0]), SameLength(new string('0', n), sb[1..])));
        return RxNode.Alt(parts);
    }

    private static RxNode Fraction => RxNode.Seq(RxNode.Char('.'), RxNode.Repeat(Digit, 1, -1));
    private static RxNode ZeroFraction => RxNode.Seq(RxNode.Char('.'), RxNode.Repeat(RxNode.Char('0'), 1, -1));
    private static RxNode NonZeroFraction => RxNode.Seq(RxNode.Char('.'), RxNode.Repeat(Digit, 0, -1), RxNode.Chars([('1', '9')]), RxNode.Repeat(Digit, 0, -1));

    /// <summary>
    /// Numbers v with lo ≤ v ≤ hi (or strict, per the flags), bounds integers or null: integers, and decimals
    /// without exponent. Decimal I.F ≥ 0 lies in [I, I+1); -I.F in (-(I+1), -I].
    /// </summary>
    public static RxNode Decimals(BigInteger? lo, bool loStrict, BigInteger? hi, bool hiStrict)
    {
        var parts = new List<RxNode>
        {
            Integers(lo is { } l ? (loStrict ? l + 1 : l) : null, hi is { } h ? (hiStrict ? h - 1 : h) : null),
        };
        // Positive side: I ≥ 0 with fraction. Any fraction is fine when I > lo-ish and I+1 ≤ hi.
        if (hi is null || hi >= 0)
        {
            BigInteger iLo = lo is { } a && a > 0 ? a : 0;
            BigInteger? iHiAny = hi is { } b ? b - 1 : null;
            // I == lo exactly with a strict bound: the fraction must be non-zero.
            if (lo is { } a2 && a2 >= 0 && loStrict)
            {
                if (hi is null || a2 < hi) parts.Add(RxNode.Seq(NonNegative(a2, a2), NonZeroFraction));
                iLo = a2 + 1;
            }
            parts.Add(RxNode.Seq(NonNegative(iLo, iHiAny), Fraction));
            if (hi is { } b2 && b2 >= iLo && !hiStrict) parts.Add(RxNode.Seq(NonNegative(b2, b2), ZeroFraction));
        }
        // Negative side: -I.F with value -(I + f).
        if (lo is null || lo < 0)
        {
            // -(I+f) ≥ lo ⇔ I + f ≤ -lo: any f when I ≤ -lo - 1; I == -lo needs f == 0 (non-strict).
            BigInteger? iHiAny = lo is { } a ? -a - 1 : null;
            // -(I+f) ≤ hi: with hi ≥ 0 always; with hi < 0, I + f ≥ -hi: I ≥ -hi (strict: I == -hi needs f > 0).
            BigInteger iLo = 0;
            if (hi is { } b && b < 0)
            {
                iLo = -b;
                if (hiStrict) { parts.Add(RxNode.Seq(RxNode.Char('-'), NonNegative(-b, -b), NonZeroFraction)); iLo = -b + 1; }
            }
            else if (hi is { } b0 && b0 == 0 && hiStrict)
            {
                // v < 0: -0.F needs a non-zero fraction.
                parts.Add(RxNode.Seq(RxNode.Literal("-0"), NonZeroFraction));
                iLo = 1;
            }
            if (iHiAny is null || iHiAny >= iLo) parts.Add(RxNode.Seq(RxNode.Char('-'), NonNegative(iLo, iHiAny), Fraction));
            if (lo is { } a3 && !loStrict && -a3 >= iLo) parts.Add(RxNode.Seq(RxNode.Char('-'), NonNegative(-a3, -a3), ZeroFraction));
        }
        return RxNode.Alt(parts);
    }
}

namespace Folio.Core.Text.Jinja;

/// <summary>
/// The binary operators after both operands are evaluated (<c>and</c>/<c>or</c> short-circuit in the
/// interpreter). Semantics follow @huggingface/jinja: int op int stays int except <c>/</c>; <c>%</c> takes the
/// sign of the dividend and <c>//</c> floors (JavaScript); an undefined operand is an error except in
/// <c>~</c> (as empty text) and on the right of <c>in</c> (never contains anything); none is an error in
/// arithmetic and concatenation; <c>+</c> concatenates when either side is a string.
/// </summary>
internal static class Operators
{
    public static JinjaValue Apply(string op, JinjaValue l, JinjaValue r)
    {
        switch (op)
        {
            case "==": return JinjaValue.FromBool(ValueEquality.LooseEquals(l, r));
            case "!=": return JinjaValue.FromBool(!ValueEquality.LooseEquals(l, r));
        }
        if (l.IsNumber && r.IsNumber && op is not ("~" or "**"))
            return Numeric(op, l, r);
        if (l.IsUndefined || r.IsUndefined)
        {
            if (r.IsUndefined && op is "in" or "not in")
                return JinjaValue.FromBool(op == "not in");
            if (op == "~" && !l.IsNone && !r.IsNone)
                return JinjaValue.FromString((l.IsUndefined ? "" : ValueText.Concat(l)) + (r.IsUndefined ? "" : ValueText.Concat(r)));
            throw new JinjaError($"'{op}' is not defined for an undefined value");
        }
        if (l.IsNone || r.IsNone)
            throw new JinjaError($"'{op}' is not defined for none");
        if (op == "~")
            return JinjaValue.FromString(ValueText.Concat(l) + ValueText.Concat(r));
        if (op == "**" && ValueEquality.IsNumeric(l) && ValueEquality.IsNumeric(r))
            return Power(l, r);
        if (l.Kind == JinjaValueKind.List && r.Kind == JinjaValueKind.List)
        {
            if (op == "+")
                return JinjaValue.FromList([.. l.AsList, .. r.AsList]);
        }
        else if (r.Kind == JinjaValueKind.List && op is "in" or "not in")
        {
            bool found = r.AsList.Any(x => ValueEquality.StrictEquals(x, l));
            return JinjaValue.FromBool(found == (op == "in"));
        }
        if (op == "+" && (l.Kind == JinjaValueKind.String || r.Kind == JinjaValueKind.String))
            return JinjaValue.FromString(ValueText.Concat(l) + ValueText.Concat(r));
        if (l.Kind == JinjaValueKind.String && r.Kind == JinjaValueKind.String && op is "in" or "not in")
            return JinjaValue.FromBool(r.AsString.Contains(l.AsString, StringComparison.Ordinal) == (op == "in"));
        if (l.Kind == JinjaValueKind.String && r.Kind == JinjaValueKind.Dict && op is "in" or "not in")
            return JinjaValue.FromBool(r.AsDict.ContainsKey(l.AsString) == (op == "in"));
        throw new JinjaError($"operator '{op}' is not supported between {l.TypeName} and {r.TypeName}");
    }

    private static JinjaValue Numeric(string op, JinjaValue l, JinjaValue r)
    {
        bool ints = l.Kind == JinjaValueKind.Int && r.Kind == JinjaValueKind.Int;
        double a = l.AsNumber, b = r.AsNumber;
        switch (op)
        {
            case "+": return ints ? Checked(() => checked(l.AsInt + r.AsInt)) : JinjaValue.FromFloat(a + b);
            case "-": return ints ? Checked(() => checked(l.AsInt - r.AsInt)) : JinjaValue.FromFloat(a - b);
            case "*": return ints ? Checked(() => checked(l.AsInt * r.AsInt)) : JinjaValue.FromFloat(a * b);
            case "/":
                if (b == 0)
                    throw new JinjaError("division by zero");
                return JinjaValue.FromFloat(a / b);
            case "//":
                if (b == 0)
                    throw new JinjaError("division by zero");
                return ints ? JinjaValue.FromInt((long)Math.Floor(a / b)) : JinjaValue.FromFloat(Math.Floor(a / b));
            case "%":
                if (b == 0)
                    throw new JinjaError("modulo by zero");
                return ints ? JinjaValue.FromInt(l.AsInt % r.AsInt) : JinjaValue.FromFloat(a % b);
            case "<": return JinjaValue.FromBool(a < b);
            case ">": return JinjaValue.FromBool(a > b);
            case "<=": return JinjaValue.FromBool(a <= b);
            case ">=": return JinjaValue.FromBool(a >= b);
            default: throw new JinjaError($"operator '{op}' is not supported between numbers");
        }
    }

    private static JinjaValue Power(JinjaValue l, JinjaValue r)
    {
        double a = l.AsNumber, b = r.AsNumber;
        if (a == 0 && b < 0)
            throw new JinjaError("0 cannot be raised to a negative power");
        double result = Math.Pow(a, b);
        if (!double.IsFinite(result))
            throw new JinjaError("the power is not a finite real number");
        bool isFloat = l.Kind == JinjaValueKind.Float || r.Kind == JinjaValueKind.Float || b < 0;
        if (!isFloat && Math.Abs(result) >= 9.2e18)
            throw new JinjaError("integer overflow");
        return isFloat ? JinjaValue.FromFloat(result) : JinjaValue.FromInt((long)result);
    }

    /// <summary>Integers are 64-bit here (JavaScript's are doubles, Python's unbounded): overflow is an error, never a wrapped value.</summary>
    private static JinjaValue Checked(Func<long> f)
    {
        try
        {
            return JinjaValue.FromInt(f());
        }
        catch (OverflowException)
        {
            throw new JinjaError("integer overflow");
        }
    }
}

namespace Folio.Structured;

/// <summary>
/// The <c>format</c>s this engine enforces, as patterns over the decoded string (full match). Formats the JSON
/// Schema specification defines but this engine does not implement are refused (<see cref="IsSpecFormat"/>);
/// formats the specification does not define are vendor annotations that validators ignore, and so does this.
/// </summary>
internal static class StringFormats
{
    // Days per month; February 29 only in leap years (divisible by 4, centuries only when divisible by 400).
    private const string Date = @"(\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-8]))"
        + @"|(\d\d(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-02-29)";
    private const string Time = @"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)";
    private const string Label = @"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    private const string Octet = @"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)";

    public static string? Pattern(string format) => format switch
    {
        "date" => Date,
        "time" => Time,
        "date-time" => Date + "[Tt]" + Time,
        "uuid" => @"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "email" => @"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" + Label + @"(\." + Label + ")*",
        "hostname" => Label + @"(\." + Label + ")*",
        "ipv4" => $@"({Octet}\.){{3}}{Octet}",
        // RFC 3986 absolute URI, characters checked (percent escapes well-formed); stricter than the RFC in places.
        "uri" => @"[A-Za-z][A-Za-z0-9+.\-]*:([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*",
        _ => null,
    };

    /// <summary>Formats defined by JSON Schema drafts 4 to 2020-12 (asserted by validators that check formats).</summary>
    public static bool IsSpecFormat(string format) => format is "date" or "time" or "date-time" or "duration" or "email"
        or "idn-email" or "hostname" or "idn-hostname" or "ipv4" or "ipv6" or "uri" or "uri-reference" or "iri"
        or "iri-reference" or "uuid" or "uri-template" or "json-pointer" or "relative-json-pointer" or "regex";
}

using System.Text.Json;

namespace Folio.Core.Simulation;

/// <summary>
/// Reads a JSONL trace: one object a line, <c>{"input_len": 120, "output_len": 300}</c>, optionally with
/// <c>"arrival_s"</c> (seconds, not negative). Blank lines are skipped; other fields are ignored. A bad line is
/// an expected outcome, so the first one is returned as an error value naming the source, the line and the
/// problem. When arrival times are given, requests are queued in arrival order (stable for ties).
/// </summary>
public static class TraceReader
{
    public static TraceReadResult Read(TextReader reader, string sourceName, int maxSequenceTokens = SimulationOptions.DefaultMaxSequenceTokens)
    {
        var requests = new List<SimRequest>();
        int lineNumber = 0;
        int withArrival = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? error = ParseLine(line, maxSequenceTokens, out SimRequest request);
            if (error is not null) return TraceReadResult.Failure($"{sourceName} line {lineNumber}: {error}");
            if (request.ArrivalS is not null) withArrival++;
            requests.Add(request);
        }
        if (requests.Count == 0) return TraceReadResult.Failure($"{sourceName}: the trace holds no requests");
        if (withArrival != 0 && withArrival != requests.Count)
            return TraceReadResult.Failure($"{sourceName}: \"arrival_s\" is given on {withArrival} of {requests.Count} lines; give it on all or none");

        SimRequest[] result = [.. requests];
        if (withArrival != 0)
            result = [.. result.Select((r, i) => (r, i)).OrderBy(p => p.r.ArrivalS).ThenBy(p => p.i).Select(p => p.r)];
        return TraceReadResult.Success(result);
    }

    // Null when the line is a valid request, else the problem (without the line number, which the caller adds).
    private static string? ParseLine(string line, int maxSequenceTokens, out SimRequest request)
    {
        request = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            // The parser's own words say what is wrong ("'}' is invalid after a value"); its position is a
            // zero-based byte offset within this line, reported as a one-based column.
            string column = e.BytePositionInLine is long position ? $" at column {position + 1}" : "";
            return $"malformed JSON{column} ({ParserMessage(e.Message)})";
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return $"expected a JSON object, got {Describe(root.ValueKind)}";

            string? error = ReadLength(root, "input_len", out int input);
            if (error is not null) return error;
            error = ReadLength(root, "output_len", out int output);
            if (error is not null) return error;
            if (input + (long)output > maxSequenceTokens)
                return $"input_len + output_len = {input + (long)output} exceeds the maximum sequence length {maxSequenceTokens}";

            double? arrival = null;
            if (root.TryGetProperty("arrival_s", out JsonElement arrivalElement))
            {
                if (arrivalElement.ValueKind != JsonValueKind.Number || !arrivalElement.TryGetDouble(out double seconds) || !double.IsFinite(seconds))
                    return $"\"arrival_s\" must be a number of seconds, got {Describe(arrivalElement.ValueKind)}";
                if (seconds < 0) return $"\"arrival_s\" is negative ({seconds})";
                arrival = seconds;
            }
            request = new SimRequest(input, output, arrival);
            return null;
        }
    }

    private static string? ReadLength(JsonElement root, string name, out int value)
    {
        value = 0;
        if (!root.TryGetProperty(name, out JsonElement element)) return $"missing \"{name}\"";
        if (element.ValueKind != JsonValueKind.Number) return $"\"{name}\" must be an integer, got {Describe(element.ValueKind)}";
        if (!element.TryGetInt64(out long number))
            return $"\"{name}\" must be an integer, got {element.GetRawText()}";
        if (number < 0) return $"\"{name}\" is negative ({number})";
        if (number == 0) return $"\"{name}\" must be at least 1 token, got 0";
        if (number > int.MaxValue) return $"\"{name}\" is too large ({number})";
        value = (int)number;
        return null;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    // Drops the parser's own position suffix ("LineNumber: 0 | BytePositionInLine: 16.", "Path: …"), which
    // counts lines within the single line parsed and would contradict the trace's line number.
    private static string ParserMessage(string message)
    {
        foreach (string marker in new[] { " LineNumber:", " Path:" })
        {
            int end = message.IndexOf(marker, StringComparison.Ordinal);
            if (end > 0) message = message[..end];
        }
        return message.TrimEnd('.', ' ');
    }
}

using System.Text.Json.Serialization;

namespace Folio.Cli;

/// <summary>Source-generated JSON for <c>folio simulate --json</c>: no reflection, so NativeAOT keeps working.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(SimulateReport))]
internal sealed partial class SimulateJsonContext : JsonSerializerContext;

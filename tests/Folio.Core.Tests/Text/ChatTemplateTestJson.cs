using System.Text.Json.Serialization;

namespace Folio.Core.Tests.Text;

/// <summary>Source-generated JSON for the tests' string escaping (no reflection serialization, as in the product).</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class ChatTemplateTestJson : JsonSerializerContext;

using System.Text;

namespace Folio.Core.Scheduling;

/// <summary>
/// A sequence's output text and how much of it was handed out (the rest is held back while a stop string could
/// still begin in it). Created on the first decoded token, so an engine without a text decoder pays nothing;
/// written only by the engine's output processor.
/// </summary>
internal sealed class SequenceText
{
    public StringBuilder Builder { get; } = new();
    public int EmittedChars { get; set; }

    public SequenceText Clone()
    {
        var copy = new SequenceText { EmittedChars = EmittedChars };
        copy.Builder.Append(Builder);
        return copy;
    }
}

namespace Folio.Core.Models;

/// <summary>
/// A model folder that cannot be served: a malformed or inconsistent file, or a feature Folio does not support.
/// The message names the file and the field or tensor. Loading is all-or-nothing: it is thrown before any
/// engine state is touched, so an engine already serving keeps serving.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message) : base(message)
    {
    }

    /// <summary>A file's content refused further down (a backend's <see cref="ArgumentException"/> on a tensor's values).</summary>
    public ModelFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}

namespace Folio.Core.Models;

/// <summary>
/// A model folder that cannot be served: a malformed or inconsistent file, or a feature Folio does not support.
/// The message names the file and the field or tensor. Loading is all-or-nothing: it is thrown before any
/// engine state is touched, so an engine already serving keeps serving.
/// </summary>
public sealed class ModelFormatException(string message) : Exception(message);

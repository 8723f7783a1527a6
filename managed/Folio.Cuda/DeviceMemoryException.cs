namespace Folio.Cuda;

/// <summary>What the engine needs does not fit the device memory it may use (gpu_memory_utilization × total, less what
/// is in use): the weights, the largest step's activations, or a single KV block. The message names the numbers.
/// An <see cref="InvalidOperationException"/>, so callers that treat a refused configuration as one keep doing so;
/// hosts map it to a model-load failure, not an internal error.</summary>
public sealed class DeviceMemoryException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

namespace Folio.Core.Compute;

/// <summary>Fills <paramref name="rows"/> with weight rows [firstRow, firstRow + rows.Length / inFeatures) as fp32:
/// how a loader hands a backend a large weight piece by piece (<see cref="IComputeBackend.UploadWeightRows"/>).</summary>
public delegate void WeightRowReader(int firstRow, Span<float> rows);

namespace Folio.Core.KvCache;

/// <summary>Where a sequence's blocks live.</summary>
public enum BlockLocation
{
    Gpu,
    Cpu,
}

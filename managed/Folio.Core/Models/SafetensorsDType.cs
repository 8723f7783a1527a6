namespace Folio.Core.Models;

/// <summary>Element types a safetensors header may name. Folio reads F32, F16 and BF16 weights; the others are
/// understood (so that byte lengths can be validated) but refused when a model needs them.</summary>
public enum SafetensorsDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool, F8E4M3, F8E5M2 }

/// <summary>Names and sizes of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        (bool ok, dtype) = name switch
        {
            "F32" => (true, SafetensorsDType.F32),
            "F16" => (true, SafetensorsDType.F16),
            "BF16" => (true, SafetensorsDType.BF16),
            "F64" => (true, SafetensorsDType.F64),
            "I64" => (true, SafetensorsDType.I64),
            "I32" => (true, SafetensorsDType.I32),
            "I16" => (true, SafetensorsDType.I16),
            "I8" => (true, SafetensorsDType.I8),
            "U8" => (true, SafetensorsDType.U8),
            "BOOL" => (true, SafetensorsDType.Bool),
            "F8_E4M3" => (true, SafetensorsDType.F8E4M3),
            "F8_E5M2" => (true, SafetensorsDType.F8E5M2),
            _ => (false, SafetensorsDType.F32),
        };
        return ok;
    }

    public static int SizeBytes(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        _ => 1,
    };

    /// <summary>Whether Folio converts this element type to fp32 weights.</summary>
    public static bool IsFloatWeight(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;
}

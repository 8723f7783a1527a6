namespace Folio.Cuda.Native;

/// <summary>Mirror of <c>enum folio_cuda_kv_layout</c>: the paged cache's dimension order.</summary>
public enum FolioCudaKvLayout
{
    /// <summary>[num_blocks, block_size, num_kv_heads, head_dim].</summary>
    Nhd = 0,

    /// <summary>[num_blocks, num_kv_heads, block_size, head_dim].</summary>
    Hnd = 1,
}

// block_swap.cuh: swap-out (GPU -> pinned host, folio_block_swap_out) and swap-in (pinned host -> GPU,
// folio_block_swap_in) of many blocks of many caches in one launch. The kernel reads and writes the host side
// directly through unified virtual addressing (zero-copy over PCIe), so a step's whole block mapping costs one
// launch instead of one cudaMemcpy per block and layer. It runs block_move_kernel (block_copy.cuh, whose
// block_move validates the call) with distinct source and destination pools.
#pragma once

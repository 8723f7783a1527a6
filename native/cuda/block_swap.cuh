// block_swap.cuh: swap-out (GPU -> pinned host) and swap-in (pinned host -> GPU) of many blocks of many
// caches in one launch. The kernel reads and writes the host side directly through unified virtual
// addressing (zero-copy over PCIe), so a step's whole block mapping costs one launch instead of one
// cudaMemcpy per block and layer. It runs block_move_kernel (block_copy.cuh) with distinct source and
// destination pools.
#pragma once

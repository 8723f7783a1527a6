// kv_write.cuh: reshape-and-cache. Copies each new token's K and V rows ([num_kv_heads, head_dim],
// contiguous within the token) into the paged cache row its slot names; the cache viewed as
// [num_slots, num_kv_heads, head_dim] is the [num_blocks, block_size, num_kv_heads, head_dim] layout of
// folio_cuda.h, so slot = block * block_size + offset addresses the row directly. Byte-moving: any element
// size; the widest vector (16, 8, 4, 2 or 1 bytes) that every pointer, stride and row size allows.
#pragma once

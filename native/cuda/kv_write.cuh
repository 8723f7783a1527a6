// kv_write.cuh: reshape-and-cache. Copies each new token's K and V rows ([num_kv_heads, head_dim],
// contiguous within the token) to the cache slot (block * block_size + offset) the KV manager assigned, in
// either cache layout of folio_cuda.h (NHD: one contiguous row per slot; HND: one head_dim row per head).
// Byte-moving: any element size; the widest vector (16, 8, 4, 2 or 1 bytes) that every pointer, stride
// and head row allows.
#pragma once

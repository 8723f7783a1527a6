// block_reduce.cuh: reductions over a CTA in a fixed order (warp shuffles, then one warp over the warps'
// results), so a row reduced twice gives the same bits. blockDim.x must be a multiple of 32, at most 1024.
// Each call begins with a barrier, so the scratch of the previous call may be reused at once.
#pragma once

#include <limits.h>
#include <math.h>

namespace folio {

// (value, index) with the larger value winning, ties to the lower index; NaN never wins.
struct ArgMax {
    float value;
    int index;
};

__device__ __forceinline__ bool beats(float v, int i, const ArgMax& best) {
    return v > best.value || (v == best.value && i < best.index);
}

__device__ __forceinline__ ArgMax warp_argmax(ArgMax a) {
    for (int o = 16; o > 0; o >>= 1) {
        ArgMax other{__shfl_xor_sync(0xffffffffu, a.value, o), __shfl_xor_sync(0xffffffffu, a.index, o)};
        if (beats(other.value, other.index, a)) a = other;
    }
    return a;
}

// The CTA's best (value, index); {-inf, INT_MAX} when no thread had a candidate.
__device__ __forceinline__ ArgMax block_argmax(ArgMax a, float* scratch_v, int* scratch_i) {
    a = warp_argmax(a);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) {
        scratch_v[warp] = a.value;
        scratch_i[warp] = a.index;
    }
    __syncthreads();
    ArgMax b{-INFINITY, INT_MAX};
    if (lane < (int)(blockDim.x / 32)) b = ArgMax{scratch_v[lane], scratch_i[lane]};
    return warp_argmax(b);
}

__device__ __forceinline__ double block_sum(double v, double* scratch) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x / 32) ? scratch[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

}  // namespace folio

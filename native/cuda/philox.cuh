// philox.cuh: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// counter-based generator of the sampler: draw (key, counter) is a pure function, so a sequence's noise depends
// only on its seed and its own counters, never on the batch it runs in or on the thread that computes it.
#pragma once

#include <stdint.h>

namespace folio {

struct Philox4 {
    uint32_t x[4];
};

__host__ __device__ __forceinline__ Philox4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                                          uint32_t k0, uint32_t k1) {
    constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
    constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
    // Unrolled in device code only: the host pass of a g++ host compiler rejects the pragma under -Werror
    // (-Wunknown-pragmas; seen with nvcc 13 and g++ on the GPU machine).
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
    for (int round = 0; round < 10; ++round) {
        const uint64_t p0 = (uint64_t)kMul0 * c0;
        const uint64_t p1 = (uint64_t)kMul1 * c2;
        const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += kWeyl0;
        k1 += kWeyl1;
    }
    return Philox4{{c0, c1, c2, c3}};
}

// A uniform float in the open interval (0, 1): 2^-24 .. 1 - 2^-24, both exact in fp32 (log never sees 0 or 1).
__host__ __device__ __forceinline__ float uniform_open(uint32_t bits) {
    return (float)(bits >> 9) * (1.0f / 8388608.0f) + (1.0f / 16777216.0f);
}

}  // namespace folio

// sampling_select.cuh: the filter thresholds of the sampler, found without sorting: radix selection over the
// order-preserving integer keys of the row's fp32 values, one 8-bit digit per pass (4 passes). Counts and
// masses are integers (a probability is a 2^-40 fixed-point count), so the histograms' atomics add up to the
// same result in any order and a row's threshold never depends on thread timing.
#pragma once

#include <stdint.h>

namespace folio {

// Larger float <-> larger key (-inf lowest, +inf highest; NaN above +inf).
__device__ __forceinline__ uint32_t order_key(float f) {
    const uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

struct RadixScratch {
    uint32_t count[256];
    unsigned long long mass[256];
    uint32_t digit;
    unsigned long long remaining;
};

constexpr double kMassScale = 1099511627776.0;  // 2^40: a probability as a fixed-point count

// The key of the k-th largest value of w[0, n) (1 <= k <= n).
__device__ uint32_t select_kth_largest(const float* w, int n, int k, RadixScratch& s) {
    uint32_t prefix = 0, mask = 0;
    unsigned long long remaining = (unsigned long long)k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        __syncthreads();
        for (int d = threadIdx.x; d < 256; d += blockDim.x) s.count[d] = 0;
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const uint32_t key = order_key(w[i]);
            if ((key & mask) == prefix) atomicAdd(&s.count[(key >> shift) & 255u], 1u);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long above = 0;
            int d = 255;
            for (; d > 0; --d) {
                if (above + s.count[d] >= remaining) break;
                above += s.count[d];
            }
            s.digit = (uint32_t)d;
            s.remaining = remaining - above;
        }
        __syncthreads();
        prefix |= s.digit << shift;
        mask |= 255u << shift;
        remaining = s.remaining;
    }
    return prefix;
}

// Among the values with key >= floor_key, each weighted by mass(i) (a fixed-point probability), the key of the
// value where the mass accumulated from the largest down first reaches `target` (every larger value is kept
// with it); the smallest such value when the whole mass stays below target.
template <typename Mass>
__device__ uint32_t select_mass_boundary(const float* w, int n, uint32_t floor_key, unsigned long long target,
                                         Mass mass, RadixScratch& s) {
    uint32_t prefix = 0, mask = 0;
    unsigned long long remaining = target;
    for (int shift = 24; shift >= 0; shift -= 8) {
        __syncthreads();
        for (int d = threadIdx.x; d < 256; d += blockDim.x) {
            s.count[d] = 0;
            s.mass[d] = 0;
        }
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const uint32_t key = order_key(w[i]);
            if (key >= floor_key && (key & mask) == prefix) {
                const uint32_t d = (key >> shift) & 255u;
                atomicAdd(&s.count[d], 1u);
                atomicAdd(&s.mass[d], mass(i));
            }
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long above = 0;
            int chosen = -1, lowest = 0;
            for (int d = 255; d >= 0; --d) {
                if (s.count[d] == 0) continue;
                lowest = d;
                if (chosen < 0 && above + s.mass[d] >= remaining) {
                    chosen = d;
                    break;
                }
                above += s.mass[d];
            }
            // Not reached (fixed-point rounding, or a target above the whole mass): keep everything, down to the
            // smallest value, at this digit and every later one.
            s.digit = (uint32_t)(chosen >= 0 ? chosen : lowest);
            s.remaining = chosen >= 0 ? remaining - above : ~0ull;
        }
        __syncthreads();
        prefix |= s.digit << shift;
        mask |= 255u << shift;
        remaining = s.remaining;
    }
    return prefix;
}

}  // namespace folio

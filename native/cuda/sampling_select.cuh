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

// Adds one value (digit d, mass m <= 2^40) to the histogram for each active lane of the calling warp: lanes with the
// same digit are summed in registers first, and one lane per digit adds. 64-bit shared-memory atomics on one address
// from the whole CTA serialised (most of a row shares its top digit): top-p over 256 rows of 128,256 ids took 3.7 ms,
// 1.7 ms with this (bench/sample_probe.cu). Called by all 32 lanes of the warp. The mass is summed as two 20-bit halves, each
// warp-wide sum within 32 bits.
__device__ __forceinline__ void add_to_histogram(RadixScratch& s, bool active, uint32_t d, unsigned long long m) {
    const unsigned act = __ballot_sync(0xffffffffu, active);
    if (!active) return;
    const unsigned peers = __match_any_sync(act, d);
    const unsigned lo = __reduce_add_sync(peers, (unsigned)(m & 0xFFFFFull));
    const unsigned hi = __reduce_add_sync(peers, (unsigned)(m >> 20));
    if ((int)(threadIdx.x % 32) == __ffs(peers) - 1) {
        atomicAdd(&s.count[d], (uint32_t)__popc(peers));
        const unsigned long long sum = ((unsigned long long)hi << 20) + lo;
        if (sum != 0) atomicAdd(&s.mass[d], sum);
    }
}

// The first index of the calling warp in a loop over [0, n) whose trip count is the same for every lane of a warp
// (blockDim.x is a multiple of 32), as add_to_histogram needs: lane i of a warp takes base + lane.
__device__ __forceinline__ int warp_base() { return threadIdx.x & ~31; }

// The key of the k-th largest value of w[0, n) (1 <= k <= n).
__device__ uint32_t select_kth_largest(const float* w, int n, int k, RadixScratch& s) {
    uint32_t prefix = 0, mask = 0;
    unsigned long long remaining = (unsigned long long)k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        __syncthreads();
        for (int d = threadIdx.x; d < 256; d += blockDim.x) s.count[d] = 0;
        __syncthreads();
        // Counts only: 32-bit shared atomics, one per id, measured faster here than summing across the warp first
        // (top-k 50 over 256 rows of 128,256: 928 us against 1,248; bench/sample_probe.cu).
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
        for (int base = warp_base(); base < n; base += blockDim.x) {
            const int i = base + (int)(threadIdx.x % 32);
            const uint32_t key = i < n ? order_key(w[i]) : 0u;
            const bool in = i < n && key >= floor_key && (key & mask) == prefix;
            add_to_histogram(s, in, (key >> shift) & 255u, in ? mass(i) : 0ull);
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

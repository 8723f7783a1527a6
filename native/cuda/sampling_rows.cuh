// sampling_rows.cuh: how the sampler reads a row. Every pass of the sampler visits the row's ids in groups of four
// (group g: ids 4g .. 4g + 3, the ids of Philox block g), each group in one thread. The bulk of a row is read with
// 16-byte loads, several in flight per thread: one CTA reads a whole row, and with one 2- or 4-byte load in flight per
// thread a pass was bound by load latency, not bandwidth (the decode step's sampler took 345 us at 256 rows of
// 128,256 ids, as long as the logits GEMM before it; ncu, bench/RESULTS.md).
#pragma once

#include <math.h>
#include <stdint.h>

#include "dtype.cuh"

namespace folio {

// Ids at or past `valid` read as -inf (ids past the vocabulary too: the last group may run past it).
template <typename T>
__device__ __forceinline__ void load_group(const T* row, int g, int valid, float (&x)[4]) {
#pragma unroll
    for (int lane = 0; lane < 4; ++lane) {
        const int i = 4 * g + lane;
        x[lane] = i < valid ? to_float(row[i]) : -INFINITY;
    }
}

// The groups of one 16-byte vector (vector c holds ids c * kPer .. c * kPer + kPer - 1).
template <typename T, typename F>
__device__ __forceinline__ void visit_vector(const uint4& v, int c, F& f) {
    constexpr int kPer = 16 / sizeof(T), kGroups = kPer / 4;
    const T* e = reinterpret_cast<const T*>(&v);
#pragma unroll
    for (int q = 0; q < kGroups; ++q) {
        float x[4];
#pragma unroll
        for (int lane = 0; lane < 4; ++lane) x[lane] = to_float(e[4 * q + lane]);
        f(c * kGroups + q, x);
    }
}

// Plain loads, not __ldg: the sampler's fp32 work row is written earlier in the same kernel.
// Calls f(g, x) once for every group g of a row of `vocab` ids (x: the group's four values, -inf at ids >= valid),
// each call in one thread of the CTA. Which thread visits which group is fixed by the row's length and alignment
// only; the sampler's reductions do not depend on it (argmax ties go to the lower id, sums are in double).
// kLoads: 16-byte loads in flight per thread (more hide more latency, and cost registers).
template <int kLoads, typename T, typename F>
__device__ __forceinline__ void for_each_group(const T* row, int valid, int vocab, F&& f) {
    constexpr int kPer = 16 / sizeof(T);  // values per 16-byte load
    const bool aligned = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
    const int head = aligned ? valid / kPer * kPer : 0;  // ids [0, head) are read as vectors
    const int vectors = head / kPer, step = blockDim.x;
    const uint4* v = reinterpret_cast<const uint4*>(row);
    int c = threadIdx.x;
    for (; c + (kLoads - 1) * step < vectors; c += kLoads * step) {
        uint4 a[kLoads];
#pragma unroll
        for (int u = 0; u < kLoads; ++u) a[u] = v[c + u * step];
#pragma unroll
        for (int u = 0; u < kLoads; ++u) visit_vector<T>(a[u], c + u * step, f);
    }
    for (; c < vectors; c += step) visit_vector<T>(v[c], c, f);
    for (int g = head / 4 + threadIdx.x; 4 * g < vocab; g += step) {
        float x[4];
        load_group(row, g, valid, x);
        f(g, x);
    }
}

}  // namespace folio

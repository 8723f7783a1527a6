// swap_in_probe.cu: why does swap-in (pinned host -> GPU, read by the SMs over PCIe) reach only ~62 % of a
// cudaMemcpy H2D on some hosts? Times the block-move kernel's shape with other unrolls and CTA sizes, and with
// host memory pinned as cudaHostAlloc default, write-combined, and cudaHostRegister'd malloc, against cudaMemcpy.
// Build and run: nvcc -O3 -arch=sm_90 bench/swap_in_probe.cu -o /tmp/swap_in_probe && /tmp/swap_in_probe
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cstring>
#include <algorithm>

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s: %s\n", #x, cudaGetErrorString(e)); exit(1); } } while (0)

template <int Threads, int Unroll>
__global__ void __launch_bounds__(Threads) move(const uint4* src, uint4* dst, const int* pairs, long vecs) {
    const uint4* s = src + (long)pairs[2 * blockIdx.x] * vecs;
    uint4* d = dst + (long)pairs[2 * blockIdx.x + 1] * vecs;
    long i = threadIdx.x;
    for (; i + (Unroll - 1) * Threads < vecs; i += Threads * Unroll) {
        uint4 v[Unroll];
#pragma unroll
        for (int u = 0; u < Unroll; ++u) v[u] = s[i + u * Threads];
#pragma unroll
        for (int u = 0; u < Unroll; ++u) d[i + u * Threads] = v[u];
    }
    for (; i < vecs; i += Threads) d[i] = s[i];
}

template <int Threads, int Unroll>
float time_kernel(const uint4* src, uint4* dst, const int* pairs, int n, long vecs) {
    cudaEvent_t a, b; CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
    move<Threads, Unroll><<<n, Threads>>>(src, dst, pairs, vecs);
    CK(cudaDeviceSynchronize());
    float best = 1e30f;
    for (int r = 0; r < 5; ++r) {
        CK(cudaEventRecord(a)); move<Threads, Unroll><<<n, Threads>>>(src, dst, pairs, vecs); CK(cudaEventRecord(b));
        CK(cudaEventSynchronize(b)); float ms; CK(cudaEventElapsedTime(&ms, a, b)); best = std::min(best, ms);
    }
    return best;
}

int main() {
    const int n = 4000, host_blocks = 4200, dev_blocks = 40000; const long block_bytes = 32768, vecs = block_bytes / 16;
    const double gb = n * (double)block_bytes / 1e9;
    uint4* dev; CK(cudaMalloc(&dev, dev_blocks * block_bytes));
    std::vector<int> pairs(2 * n); unsigned long long seed = 1;
    auto shuffle = [&](std::vector<int>& v) { for (size_t i = v.size() - 1; i > 0; --i) { seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; std::swap(v[i], v[(seed >> 33) % (i + 1)]); } };
    std::vector<int> hp(host_blocks), dp(dev_blocks);
    for (int i = 0; i < host_blocks; ++i) hp[i] = i; for (int i = 0; i < dev_blocks; ++i) dp[i] = i;
    shuffle(hp); shuffle(dp);
    for (int i = 0; i < n; ++i) { pairs[2 * i] = hp[i]; pairs[2 * i + 1] = dp[i]; }
    int* dpairs; CK(cudaMalloc(&dpairs, pairs.size() * 4)); CK(cudaMemcpy(dpairs, pairs.data(), pairs.size() * 4, cudaMemcpyHostToDevice));
    const char* kinds[] = {"cudaHostAlloc default", "cudaHostAlloc write-combined", "malloc + cudaHostRegister"};
    for (int k = 0; k < 3; ++k) {
        void* host = nullptr;
        if (k == 0) CK(cudaHostAlloc(&host, host_blocks * block_bytes, cudaHostAllocDefault));
        if (k == 1) CK(cudaHostAlloc(&host, host_blocks * block_bytes, cudaHostAllocWriteCombined));
        if (k == 2) { host = aligned_alloc(4096, host_blocks * block_bytes); CK(cudaHostRegister(host, host_blocks * block_bytes, cudaHostRegisterDefault)); }
        memset(host, 1, host_blocks * block_bytes);
        cudaEvent_t a, b; CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b)); float best = 1e30f;
        for (int r = 0; r < 5; ++r) {
            CK(cudaEventRecord(a)); CK(cudaMemcpyAsync(dev, host, n * block_bytes, cudaMemcpyHostToDevice)); CK(cudaEventRecord(b));
            CK(cudaEventSynchronize(b)); float ms; CK(cudaEventElapsedTime(&ms, a, b)); best = std::min(best, ms);
        }
        printf("%-30s memcpy H2D %.1f GB/s\n", kinds[k], gb / (best * 1e-3));
        const uint4* src = (const uint4*)host;
#define RUN(T, U) printf("%-30s kernel %3d threads x unroll %2d: %.1f GB/s\n", kinds[k], T, U, gb / (time_kernel<T, U>(src, dev, dpairs, n, vecs) * 1e-3));
        RUN(256, 4) RUN(256, 8) RUN(128, 16) RUN(512, 4) RUN(1024, 2) RUN(64, 8)
        if (k == 2) { CK(cudaHostUnregister(host)); free(host); } else CK(cudaFreeHost(host));
    }
    return 0;
}

// sample_probe.cu: the sampler alone at a decode step's shape (256 rows of 128,256 ids, bf16 logits as the logits
// GEMM writes them), timed with CUDA events, with a digest of its outputs so two builds of folio_sample can be
// compared token for token. Build it against a sampling.cu (the current one, or an older one copied elsewhere):
//   nvcc -O3 -std=c++17 -arch=sm_90 -Inative/include -Inative/cuda -DSAMPLING_CU='"native/cuda/sampling.cu"' \
//        bench/sample_probe.cu -o /tmp/sample_probe && /tmp/sample_probe
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include SAMPLING_CU

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s: %s\n", #x, cudaGetErrorString(e)); exit(1); } } while (0)

namespace {

struct Case {
    const char* name;
    int rows, vocab, dtype, logprobs;
    bool sampled, top_p;
    int top_k;
};

// Logits like a decode step's: normal, std `scale`, from a fixed LCG + Box-Muller (the same on every build).
std::vector<float> make_logits(size_t n, float scale) {
    std::vector<float> v(n);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    auto next = [&] { s = s * 6364136223846793005ull + 1442695040888963407ull; return ((s >> 40) + 0.5) / 16777216.0; };
    for (size_t i = 0; i < n; i += 2) {
        const double u = next(), w = next(), r = sqrt(-2.0 * log(u));
        v[i] = (float)(scale * r * cos(6.283185307179586 * w));
        if (i + 1 < n) v[i + 1] = (float)(scale * r * sin(6.283185307179586 * w));
    }
    return v;
}

void run(const Case& c) {
    const size_t n = (size_t)c.rows * c.vocab;
    const std::vector<float> host = make_logits(n, 2.0f);
    void* logits;
    if (c.dtype == FOLIO_CUDA_DTYPE_BF16) {
        std::vector<__nv_bfloat16> b(n);
        for (size_t i = 0; i < n; ++i) b[i] = __float2bfloat16(host[i]);
        CK(cudaMalloc(&logits, n * 2));
        CK(cudaMemcpy(logits, b.data(), n * 2, cudaMemcpyHostToDevice));
    } else {
        CK(cudaMalloc(&logits, n * 4));
        CK(cudaMemcpy(logits, host.data(), n * 4, cudaMemcpyHostToDevice));
    }
    std::vector<float> temp(c.rows, 1.0f), top_p(c.rows, 0.9f);
    std::vector<int32_t> top_k(c.rows, c.top_k);
    std::vector<uint64_t> seeds(c.rows), draws(c.rows);
    for (int r = 0; r < c.rows; ++r) seeds[r] = 1000003ull * r + 7, draws[r] = 40 + r % 3;
    float *d_temp, *d_top_p, *d_lp, *d_top_lp;
    uint64_t *d_seeds, *d_draws;
    int32_t *d_sampled, *d_top_ids, *d_top_k;
    CK(cudaMalloc(&d_temp, c.rows * 4));
    CK(cudaMalloc(&d_top_p, c.rows * 4));
    CK(cudaMalloc(&d_seeds, c.rows * 8));
    CK(cudaMalloc(&d_top_k, c.rows * 4));
    CK(cudaMemcpy(d_top_k, top_k.data(), c.rows * 4, cudaMemcpyHostToDevice));
    CK(cudaMalloc(&d_draws, c.rows * 8));
    CK(cudaMalloc(&d_sampled, c.rows * 4));
    CK(cudaMalloc(&d_lp, c.rows * 4));
    CK(cudaMalloc(&d_top_ids, c.rows * 20 * 4));
    CK(cudaMalloc(&d_top_lp, c.rows * 20 * 4));
    CK(cudaMemcpy(d_temp, temp.data(), c.rows * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_top_p, top_p.data(), c.rows * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_seeds, seeds.data(), c.rows * 8, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_draws, draws.data(), c.rows * 8, cudaMemcpyHostToDevice));
    size_t ws_bytes = 0;
    folio_sample_workspace_size(c.rows, c.vocab, &ws_bytes);
    void* ws;
    CK(cudaMalloc(&ws, ws_bytes));

    folio_cuda_sample_params p{};
    p.struct_size = sizeof p;
    p.num_rows = c.rows;
    p.vocab_size = c.vocab;
    p.dtype = c.dtype;
    p.logits = logits;
    p.logits_row_stride = c.vocab;
    p.temperature = c.sampled ? d_temp : nullptr;
    p.top_p = c.top_p ? d_top_p : nullptr;
    p.top_k = c.top_k > 0 ? d_top_k : nullptr;
    p.seeds = d_seeds;
    p.draw_index = d_draws;
    p.num_logprobs = c.logprobs;
    p.sampled = d_sampled;
    p.sampled_logprobs = d_lp;
    p.top_ids = d_top_ids;
    p.top_logprobs = d_top_lp;
    p.workspace = ws;
    p.workspace_bytes = ws_bytes;

    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < 3; ++i)
        if (folio_sample(&p, nullptr) != 0) { printf("%s: folio_sample failed\n", c.name); exit(1); }
    const int iters = 20;
    CK(cudaEventRecord(a));
    for (int i = 0; i < iters; ++i) folio_sample(&p, nullptr);
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));

    std::vector<int32_t> sampled(c.rows), top_ids(c.rows * 20);
    std::vector<float> lp(c.rows), top_lp(c.rows * 20);
    CK(cudaMemcpy(sampled.data(), d_sampled, c.rows * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(lp.data(), d_lp, c.rows * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(top_ids.data(), d_top_ids, c.rows * 20 * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(top_lp.data(), d_top_lp, c.rows * 20 * 4, cudaMemcpyDeviceToHost));
    uint64_t digest = 1469598103934665603ull;
    double lp_sum = 0;
    for (int r = 0; r < c.rows; ++r) {
        digest = (digest ^ (uint32_t)sampled[r]) * 1099511628211ull;
        lp_sum += lp[r];
        for (int j = 0; j < c.logprobs; ++j) {
            digest = (digest ^ (uint32_t)top_ids[r * c.logprobs + j]) * 1099511628211ull;
            lp_sum += top_lp[r * c.logprobs + j];
        }
    }
    printf("%-28s %8.1f us  tokens+ids digest %016llx  logprob sum %.6f  first tokens %d %d %d\n", c.name,
           1000.0 * ms / iters, (unsigned long long)digest, lp_sum, sampled[0], sampled[1], sampled[2]);
    cudaFree(logits); cudaFree(ws); cudaFree(d_temp); cudaFree(d_top_p); cudaFree(d_top_k); cudaFree(d_seeds); cudaFree(d_draws);
    cudaFree(d_sampled); cudaFree(d_lp); cudaFree(d_top_ids); cudaFree(d_top_lp);
}

}  // namespace

int main() {
    const Case cases[] = {
        {"bf16 256x128256 t=1", 256, 128256, FOLIO_CUDA_DTYPE_BF16, 0, true, false, 0},
        {"bf16 256x128256 greedy", 256, 128256, FOLIO_CUDA_DTYPE_BF16, 0, false, false, 0},
        {"bf16 256x128256 t=1 lp5", 256, 128256, FOLIO_CUDA_DTYPE_BF16, 5, true, false, 0},
        {"bf16 256x128256 top-p .9", 256, 128256, FOLIO_CUDA_DTYPE_BF16, 0, true, true, 0},
        {"bf16 256x128256 top-k 50", 256, 128256, FOLIO_CUDA_DTYPE_BF16, 0, true, false, 50},
        {"bf16 256x128256 k50 p.9 lp5", 256, 128256, FOLIO_CUDA_DTYPE_BF16, 5, true, true, 50},
        {"f32 256x128256 t=1", 256, 128256, FOLIO_CUDA_DTYPE_F32, 0, true, false, 0},
        {"bf16 64x32000 t=1", 64, 32000, FOLIO_CUDA_DTYPE_BF16, 0, true, false, 0},
        {"bf16 19x32001 t=1", 19, 32001, FOLIO_CUDA_DTYPE_BF16, 0, true, false, 0},
    };
    for (const Case& c : cases) run(c);
    return 0;
}

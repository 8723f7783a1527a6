// gemm.cu: folio_gemm, the linear layers through cuBLASLt (folio_cuda.h, "Linear layers").
// Row-major out[m, n] = x[m, k] . weight[n, k]^T is, read column-major, out^T[n, m] = weight^T^T . x^T: cuBLASLt's
// A is the weight (k x n column-major, transposed), B is x (k x m column-major), D is out (n x m column-major),
// and the bias epilogue adds bias[n] down D's rows, i.e. per output feature.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include <algorithm>
#include <new>
#include <tuple>
#include <vector>

#include "dtype.cuh"
#include "gemm_invariant.cuh"
#include "status.cuh"

namespace folio {
namespace {

// The shape-dependent part of a call, made once per shape: descriptors and the heuristic's algorithm.
struct GemmPlan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
    bool bias = false;
};

using PlanKey = std::tuple<int32_t, int32_t, int32_t, int32_t, bool, bool>;  // m, n, k, dtype, bias, workspace

const char* blas_status_name(cublasStatus_t s) {
    switch (s) {
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
        default: return "cuBLAS error";
    }
}

int32_t blas_fail(cublasStatus_t s, const char* what) {
    cudaGetLastError();  // a failed cuBLAS call may leave a runtime error behind; it is reported here
    return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "gemm: %s failed: %s (%d)", what, blas_status_name(s), (int)s);
}

#define FOLIO_BLAS(call, what)                                   \
    do {                                                         \
        cublasStatus_t st_ = (call);                             \
        if (st_ != CUBLAS_STATUS_SUCCESS) return ::folio::blas_fail(st_, what); \
    } while (0)

cudaDataType_t cuda_type(int32_t dtype) {
    return dtype == FOLIO_CUDA_DTYPE_BF16 ? CUDA_R_16BF : dtype == FOLIO_CUDA_DTYPE_F16 ? CUDA_R_16F : CUDA_R_32F;
}

void destroy_plan(GemmPlan& p) {
    if (p.desc) cublasLtMatmulDescDestroy(p.desc);
    if (p.a) cublasLtMatrixLayoutDestroy(p.a);
    if (p.b) cublasLtMatrixLayoutDestroy(p.b);
    if (p.d) cublasLtMatrixLayoutDestroy(p.d);
    p = GemmPlan{};
}

}  // namespace

// The opaque handle of folio_cuda_blas_create. The plans are a vector sorted by key (std::map's emplace does not
// compile with CI's clang-14 host compiler and libstdc++ 12); a step's few shapes make lookups cheap either way.
struct Blas {
    cublasLtHandle_t lt = nullptr;
    std::vector<std::pair<PlanKey, GemmPlan>> plans;
};

namespace {

int32_t make_plan(Blas& blas, const folio_cuda_gemm_params& p, GemmPlan* out) {
    GemmPlan plan;
    const cudaDataType_t t = cuda_type(p.dtype);
    // fp32 inputs: CUBLAS_COMPUTE_32F is true fp32 (TF32 only with the _FAST_TF32 variant, never taken here).
    auto fail_with = [&](int32_t status) {
        destroy_plan(plan);
        return status;
    };
    cublasStatus_t st = cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    if (st != CUBLAS_STATUS_SUCCESS) return fail_with(blas_fail(st, "cublasLtMatmulDescCreate"));
    const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
    cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose);
    cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof keep);
    if (p.bias) {
        const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
        st = cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue);
        if (st != CUBLAS_STATUS_SUCCESS) return fail_with(blas_fail(st, "setting the bias epilogue"));
        // The bias pointer is set per call; a placeholder here lets the heuristic see the epilogue's alignment.
        const void* bias = p.bias;
        cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
        plan.bias = true;
    }
    st = cublasLtMatrixLayoutCreate(&plan.a, t, p.k, p.n, p.k);  // weight^T as stored: k x n, ld k
    if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatrixLayoutCreate(&plan.b, t, p.k, p.m, p.k);  // x^T: k x m
    if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatrixLayoutCreate(&plan.d, t, p.n, p.m, p.n);  // out^T: n x m
    if (st != CUBLAS_STATUS_SUCCESS) return fail_with(blas_fail(st, "cublasLtMatrixLayoutCreate"));

    cublasLtMatmulPreference_t pref = nullptr;
    st = cublasLtMatmulPreferenceCreate(&pref);
    if (st != CUBLAS_STATUS_SUCCESS) return fail_with(blas_fail(st, "cublasLtMatmulPreferenceCreate"));
    const size_t workspace = p.workspace ? p.workspace_bytes : 0;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof workspace);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    st = cublasLtMatmulAlgoGetHeuristic(blas.lt, plan.desc, plan.a, plan.b, plan.d, plan.d, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS) return fail_with(blas_fail(st, "cublasLtMatmulAlgoGetHeuristic"));
    if (found == 0) {
        return fail_with(fail(FOLIO_CUDA_STATUS_UNSUPPORTED, "gemm: cuBLASLt has no algorithm for m=%d n=%d k=%d dtype %d",
                              p.m, p.n, p.k, p.dtype));
    }
    plan.algo = result.algo;
    *out = plan;
    return FOLIO_CUDA_STATUS_OK;
}

}  // namespace
}  // namespace folio

extern "C" int32_t folio_cuda_blas_create(void** blas) {
    FOLIO_REQUIRE(blas, "cuda_blas_create: blas must be non-null");
    auto* b = new (std::nothrow) folio::Blas();
    if (!b) return folio::fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "cuda_blas_create: out of host memory");
    cublasStatus_t st = cublasLtCreate(&b->lt);
    if (st != CUBLAS_STATUS_SUCCESS) {
        delete b;
        return folio::blas_fail(st, "cublasLtCreate");
    }
    *blas = b;
    return folio::ok();
}

extern "C" int32_t folio_cuda_blas_destroy(void* blas) {
    if (!blas) return folio::ok();
    auto* b = static_cast<folio::Blas*>(blas);
    for (auto& entry : b->plans) folio::destroy_plan(entry.second);
    cublasLtDestroy(b->lt);
    delete b;
    return folio::ok();
}

extern "C" int32_t folio_gemm(void* blas, const folio_cuda_gemm_params* params, void* stream) {
    int32_t s = folio::check_struct_size(params, sizeof(folio_cuda_gemm_params), "gemm");
    if (s != FOLIO_CUDA_STATUS_OK) return s;
    const folio_cuda_gemm_params& p = *params;
    FOLIO_REQUIRE(blas, "gemm: blas must be non-null (folio_cuda_blas_create)");
    FOLIO_REQUIRE(p.m >= 0 && p.n > 0 && p.k > 0, "gemm: m (%d) must be >= 0, n (%d) and k (%d) > 0", p.m, p.n, p.k);
    FOLIO_REQUIRE(folio::is_float_dtype(p.dtype), "gemm: dtype must be F32, BF16 or F16 (got %d)", p.dtype);
    FOLIO_REQUIRE((p.flags & ~FOLIO_CUDA_GEMM_BATCH_INVARIANT) == 0, "gemm: unknown flags 0x%x", (unsigned)p.flags);
    const bool invariant = (p.flags & FOLIO_CUDA_GEMM_BATCH_INVARIANT) != 0;
    FOLIO_REQUIRE(!invariant || p.dtype == FOLIO_CUDA_DTYPE_F32, "gemm: FOLIO_CUDA_GEMM_BATCH_INVARIANT needs dtype F32 (got %d)",
                  p.dtype);
    if (p.m == 0) return folio::ok();
    FOLIO_REQUIRE(p.out && p.x && p.weight, "gemm: out, x and weight must be non-null (bias may be null)");
    FOLIO_REQUIRE(!p.workspace == (p.workspace_bytes == 0),
                  "gemm: workspace and workspace_bytes must be both set or both empty");
    if (invariant) return folio::gemm_batch_invariant_f32(p, static_cast<cudaStream_t>(stream));
    auto& b = *static_cast<folio::Blas*>(blas);
    const folio::PlanKey key{p.m, p.n, p.k, p.dtype, p.bias != nullptr, p.workspace != nullptr};
    auto it = std::lower_bound(b.plans.begin(), b.plans.end(), key,
                               [](const auto& entry, const folio::PlanKey& k) { return entry.first < k; });
    if (it == b.plans.end() || it->first != key) {
        folio::GemmPlan plan;
        if ((s = folio::make_plan(b, p, &plan)) != FOLIO_CUDA_STATUS_OK) return s;
        it = b.plans.insert(it, std::make_pair(key, plan));
    }
    folio::GemmPlan& plan = it->second;
    if (plan.bias) {
        const void* bias = p.bias;
        FOLIO_BLAS(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
                   "setting the bias pointer");
    }
    const float one = 1.f, zero = 0.f;
    FOLIO_BLAS(cublasLtMatmul(b.lt, plan.desc, &one, p.weight, plan.a, p.x, plan.b, &zero, p.out, plan.d, p.out, plan.d,
                              &plan.algo, p.workspace, p.workspace_bytes, static_cast<cudaStream_t>(stream)),
               "cublasLtMatmul");
    return folio::check_launch("gemm");
}

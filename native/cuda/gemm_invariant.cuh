// gemm_invariant.cuh: the batch-invariant fp32 GEMM behind folio_gemm's FOLIO_CUDA_GEMM_BATCH_INVARIANT flag.
#pragma once
#include <cuda_runtime.h>

#include "folio_cuda.h"

namespace folio {

// out[m, n] = x[m, k] . weight[n, k]^T (+ bias), fp32, each output summed over k in index order by one thread:
// a row's result does not depend on m, on the row's place in the batch or on the launch shape. Arguments are
// checked by folio_gemm.
int32_t gemm_batch_invariant_f32(const folio_cuda_gemm_params& p, cudaStream_t stream);

}  // namespace folio

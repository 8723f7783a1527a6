// prefill_kernel_choice.cu: which kernel folio_paged_prefill runs for a call (the caller's
// folio_cuda_prefill_kernel, the build, the device and the arguments), and folio_paged_prefill_kernel, which reports it.
#include <cuda_runtime.h>
#include <math.h>

#include "paged_prefill.cuh"
#include "status.cuh"
#if FOLIO_HAS_PREFILL_SM90
#include "paged_prefill_sm90.cuh"
#endif

namespace folio {

// The one dispatch rule of folio_paged_prefill, which folio_paged_prefill_kernel reports: the kernel a call asking
// for `requested` runs, or the refusal (with its message) of a request for the sm_90a kernel where it cannot run.
int32_t choose_prefill_kernel(int32_t requested, int32_t head_dim, float scale, int32_t dtype, int32_t* taken) {
    *taken = FOLIO_CUDA_PREFILL_KERNEL_SM80;
    if (requested == FOLIO_CUDA_PREFILL_KERNEL_SM80) return ok();
    if (requested != FOLIO_CUDA_PREFILL_KERNEL_AUTO && requested != FOLIO_CUDA_PREFILL_KERNEL_SM90) {
        return fail(FOLIO_CUDA_STATUS_INVALID_ARGUMENT,
                    "paged_prefill: kernel must be AUTO (0), SM80 (80) or SM90 (90) (got %d)", requested);
    }
    const bool asked = requested == FOLIO_CUDA_PREFILL_KERNEL_SM90;
    const char* why = nullptr;  // why the sm_90a kernel cannot run this call; null: it can
#if FOLIO_HAS_PREFILL_SM90
    int device = 0, major = 0, minor = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
        cudaGetLastError();  // leave no sticky error behind for the fallback's launch check
        why = "the current CUDA device cannot be queried";
    } else if (major != 9 || minor != 0) {
        why = "the device is not compute capability 9.0";
    } else if (dtype != FOLIO_CUDA_DTYPE_F16 && dtype != FOLIO_CUDA_DTYPE_BF16) {
        why = "it takes fp16 or bf16 only";
    } else if (head_dim != 64 && head_dim != 128) {
        why = "it takes head_dim 64 or 128 only";
    } else if (!(scale > 0.f) || !isfinite(scale)) {
        why = "it takes a positive finite scale only";
    }
    // AUTO follows the build's default (CMake FOLIO_PREFILL_SM90_DEFAULT=0 leaves the sm_90a kernel to be asked for).
    const bool wanted = asked || prefill_sm90_by_default();
#else
    (void)head_dim;
    (void)scale;
    (void)dtype;
    why = "this library was built without it (it needs nvcc >= 12 and sm_90 among CMAKE_CUDA_ARCHITECTURES)";
    const bool wanted = asked;
#endif
    if (why != nullptr) {
        return asked ? fail(FOLIO_CUDA_STATUS_UNSUPPORTED, "paged_prefill: the sm_90a kernel does not apply: %s", why)
                     : ok();
    }
    if (wanted) *taken = FOLIO_CUDA_PREFILL_KERNEL_SM90;
    return ok();
}

}  // namespace folio

extern "C" int32_t folio_paged_prefill_kernel(int32_t kernel, int32_t head_dim, float scale, int32_t dtype) {
    int32_t taken = 0;
    const int32_t status = folio::choose_prefill_kernel(kernel, head_dim, scale, dtype, &taken);
    return status == FOLIO_CUDA_STATUS_OK ? taken : status;
}


// status.cu: thread-local last-error string and CUDA error mapping (see status.cuh).
#include "status.cuh"

#include <cstdarg>
#include <cstdio>

namespace folio {
namespace {
// One message per host thread: callers on different threads never see each other's errors.
thread_local char last_error[512] = "";
}  // namespace

int32_t fail(folio_cuda_status status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    return status;
}

int32_t ok() {
    last_error[0] = '\0';
    return FOLIO_CUDA_STATUS_OK;
}

int32_t cuda_result(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return ok();
    // A failed runtime call also becomes the thread's "last error"; consume it here, where it is reported, or the
    // next launch's check_launch would read it and blame that launch (an invalid-handle error from
    // cudaEventElapsedTime once failed the kv_write after it). Sticky errors stay whatever we do.
    cudaGetLastError();
    return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "%s: %s (%s)", what, cudaGetErrorName(err), cudaGetErrorString(err));
}

int32_t check_launch(const char* what) {
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) {
        return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "%s: launch failed: %s (%s)", what, cudaGetErrorName(err),
                    cudaGetErrorString(err));
    }
    return ok();
}

int32_t sm_count(int* count) {
    int device = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(count, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) {
        return fail(FOLIO_CUDA_STATUS_CUDA_ERROR, "cannot query the current CUDA device: %s", cudaGetErrorString(err));
    }
    return FOLIO_CUDA_STATUS_OK;
}

int32_t check_struct_size(const void* params, size_t known, const char* what) {
    if (!params) return fail(FOLIO_CUDA_STATUS_INVALID_ARGUMENT, "%s: params must be non-null", what);
    const uint32_t size = *static_cast<const uint32_t*>(params);
    if (size < known || size > 4096) {
        return fail(FOLIO_CUDA_STATUS_STRUCT_SIZE, "%s: struct_size %u is not this header's %zu (or a newer one's)",
                    what, size, known);
    }
    const unsigned char* bytes = static_cast<const unsigned char*>(params);
    for (size_t i = known; i < size; ++i) {
        if (bytes[i] != 0) {
            return fail(FOLIO_CUDA_STATUS_STRUCT_SIZE,
                        "%s: struct_size %u has a non-zero byte at %zu, past the %zu bytes this library knows", what,
                        size, i, known);
        }
    }
    return FOLIO_CUDA_STATUS_OK;
}

}  // namespace folio

extern "C" const char* folio_cuda_last_error(void) { return folio::last_error; }

extern "C" int32_t folio_cuda_version(void) { return FOLIO_CUDA_VERSION_MAJOR * 10000 + FOLIO_CUDA_VERSION_MINOR * 100 + FOLIO_CUDA_VERSION_PATCH; }

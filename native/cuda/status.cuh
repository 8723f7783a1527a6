// status.cuh: the library's error reporting. Every exported function returns a folio_cuda_status and, on
// failure, leaves a message in a thread-local buffer that folio_cuda_last_error() returns.
#pragma once

#include <cuda_runtime.h>

#include "folio_cuda.h"

namespace folio {

// Records the message (printf-style) for this thread and returns `status`.
int32_t fail(folio_cuda_status status, const char* format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// Clears this thread's message; returns FOLIO_CUDA_STATUS_OK.
int32_t ok();

// Maps a CUDA runtime result to OK or CUDA_ERROR with the runtime's name and message, prefixed by `what`.
int32_t cuda_result(cudaError_t err, const char* what);

// Maps the launch's error (cudaGetLastError after a <<<>>>) to a status naming `what`.
int32_t check_launch(const char* what);

// Multiprocessor count of the current device, or a CUDA error status.
int32_t sm_count(int* count);

// The struct_size rule of folio_cuda.h for a parameter struct whose known size is `known` bytes: struct_size
// (its first field) >= known, at most 4096, and every byte past `known` zero. Returns OK or STRUCT_SIZE.
int32_t check_struct_size(const void* params, size_t known, const char* what);

}  // namespace folio

// Validation helper for launchers: return a clear INVALID_ARGUMENT naming the failed condition.
#define FOLIO_REQUIRE(cond, ...)                                               \
    do {                                                                        \
        if (!(cond)) return ::folio::fail(FOLIO_CUDA_STATUS_INVALID_ARGUMENT, __VA_ARGS__); \
    } while (0)

// memory.cu: device memory, pinned host memory and streams for hosts without a CUDA runtime of their own
// (folio_cuda.h, "Device memory and streams"). Each call maps the runtime's error to a status and message.
#include <cuda_runtime.h>

#include "status.cuh"

extern "C" int32_t folio_cuda_malloc(size_t bytes, void** ptr) {
    FOLIO_REQUIRE(ptr, "cuda_malloc: ptr must be non-null");
    if (bytes == 0) {
        *ptr = nullptr;
        return folio::ok();
    }
    void* p = nullptr;
    const int32_t status = folio::cuda_result(cudaMalloc(&p, bytes), "cuda_malloc");
    if (status == FOLIO_CUDA_STATUS_OK) *ptr = p;
    return status;
}

extern "C" int32_t folio_cuda_free(void* ptr) {
    if (!ptr) return folio::ok();
    return folio::cuda_result(cudaFree(ptr), "cuda_free");
}

extern "C" int32_t folio_cuda_host_alloc(size_t bytes, void** ptr) {
    FOLIO_REQUIRE(ptr, "cuda_host_alloc: ptr must be non-null");
    if (bytes == 0) {
        *ptr = nullptr;
        return folio::ok();
    }
    void* p = nullptr;
    const int32_t status =
        folio::cuda_result(cudaHostAlloc(&p, bytes, cudaHostAllocPortable | cudaHostAllocMapped), "cuda_host_alloc");
    if (status == FOLIO_CUDA_STATUS_OK) *ptr = p;
    return status;
}

extern "C" int32_t folio_cuda_host_free(void* ptr) {
    if (!ptr) return folio::ok();
    return folio::cuda_result(cudaFreeHost(ptr), "cuda_host_free");
}

extern "C" int32_t folio_cuda_stream_create(void** stream) {
    FOLIO_REQUIRE(stream, "cuda_stream_create: stream must be non-null");
    cudaStream_t s = nullptr;
    const int32_t status =
        folio::cuda_result(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cuda_stream_create");
    if (status == FOLIO_CUDA_STATUS_OK) *stream = s;
    return status;
}

extern "C" int32_t folio_cuda_stream_destroy(void* stream) {
    if (!stream) return folio::ok();
    return folio::cuda_result(cudaStreamDestroy(static_cast<cudaStream_t>(stream)), "cuda_stream_destroy");
}

extern "C" int32_t folio_cuda_stream_synchronize(void* stream) {
    return folio::cuda_result(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "cuda_stream_synchronize");
}

extern "C" int32_t folio_cuda_memcpy_async(void* dst, const void* src, size_t bytes, void* stream) {
    if (bytes == 0) return folio::ok();
    FOLIO_REQUIRE(dst && src, "cuda_memcpy_async: dst and src must be non-null");
    return folio::cuda_result(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, static_cast<cudaStream_t>(stream)),
                              "cuda_memcpy_async");
}

extern "C" int32_t folio_cuda_memset_async(void* dst, int32_t value, size_t bytes, void* stream) {
    if (bytes == 0) return folio::ok();
    FOLIO_REQUIRE(dst, "cuda_memset_async: dst must be non-null");
    return folio::cuda_result(cudaMemsetAsync(dst, value & 0xff, bytes, static_cast<cudaStream_t>(stream)),
                              "cuda_memset_async");
}

extern "C" int32_t folio_cuda_mem_get_info(size_t* free_bytes, size_t* total_bytes) {
    FOLIO_REQUIRE(free_bytes && total_bytes, "cuda_mem_get_info: free_bytes and total_bytes must be non-null");
    size_t f = 0, t = 0;
    const int32_t status = folio::cuda_result(cudaMemGetInfo(&f, &t), "cuda_mem_get_info");
    if (status == FOLIO_CUDA_STATUS_OK) {
        *free_bytes = f;
        *total_bytes = t;
    }
    return status;
}

// event.cu: CUDA events for hosts without a CUDA runtime of their own (folio_cuda.h, "Events and graphs"):
// ordering between streams and GPU-side timing of the step loop.
#include <cuda_runtime.h>

#include "status.cuh"

extern "C" int32_t folio_cuda_event_create(int32_t timing, void** event) {
    FOLIO_REQUIRE(event, "cuda_event_create: event must be non-null");
    FOLIO_REQUIRE(timing == 0 || timing == 1, "cuda_event_create: timing must be 0 or 1 (got %d)", timing);
    cudaEvent_t e = nullptr;
    // Without timing an event is cheaper to record and to wait on (no timestamp is written).
    const int32_t status = folio::cuda_result(
        cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming), "cuda_event_create");
    if (status == FOLIO_CUDA_STATUS_OK) *event = e;
    return status;
}

extern "C" int32_t folio_cuda_event_destroy(void* event) {
    if (!event) return folio::ok();
    return folio::cuda_result(cudaEventDestroy(static_cast<cudaEvent_t>(event)), "cuda_event_destroy");
}

extern "C" int32_t folio_cuda_event_record(void* event, void* stream) {
    FOLIO_REQUIRE(event, "cuda_event_record: event must be non-null");
    return folio::cuda_result(cudaEventRecord(static_cast<cudaEvent_t>(event), static_cast<cudaStream_t>(stream)),
                              "cuda_event_record");
}

extern "C" int32_t folio_cuda_event_synchronize(void* event) {
    FOLIO_REQUIRE(event, "cuda_event_synchronize: event must be non-null");
    return folio::cuda_result(cudaEventSynchronize(static_cast<cudaEvent_t>(event)), "cuda_event_synchronize");
}

extern "C" int32_t folio_cuda_event_elapsed_ms(void* start, void* end, float* milliseconds) {
    FOLIO_REQUIRE(start && end && milliseconds, "cuda_event_elapsed_ms: start, end and milliseconds must be non-null");
    float ms = 0.f;
    const int32_t status = folio::cuda_result(
        cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)),
        "cuda_event_elapsed_ms");
    if (status == FOLIO_CUDA_STATUS_OK) *milliseconds = ms;
    return status;
}

extern "C" int32_t folio_cuda_stream_wait_event(void* stream, void* event) {
    FOLIO_REQUIRE(event, "cuda_stream_wait_event: event must be non-null");
    return folio::cuda_result(
        cudaStreamWaitEvent(static_cast<cudaStream_t>(stream), static_cast<cudaEvent_t>(event), 0),
        "cuda_stream_wait_event");
}

// graph.cu: CUDA graphs through stream capture (folio_cuda.h, "Events and graphs"): the GPU backend captures a
// decode step per batch-size bucket once and replays it, so a step costs one launch instead of one per kernel.
#include <cuda_runtime.h>

#include "status.cuh"

extern "C" int32_t folio_cuda_stream_begin_capture(void* stream) {
    // The legacy default stream cannot be captured; say so rather than pass the runtime's generic error on.
    FOLIO_REQUIRE(stream, "cuda_stream_begin_capture: stream must be a created stream (the default stream cannot be "
                          "captured)");
    // Thread-local mode: only this thread's capture-unsafe calls (cudaMalloc, a synchronisation) are refused while
    // capturing, so other host threads keep working.
    return folio::cuda_result(cudaStreamBeginCapture(static_cast<cudaStream_t>(stream), cudaStreamCaptureModeThreadLocal),
                              "cuda_stream_begin_capture");
}

extern "C" int32_t folio_cuda_stream_end_capture(void* stream, void** graph) {
    FOLIO_REQUIRE(stream && graph, "cuda_stream_end_capture: stream and graph must be non-null");
    cudaGraph_t g = nullptr;
    const int32_t status =
        folio::cuda_result(cudaStreamEndCapture(static_cast<cudaStream_t>(stream), &g), "cuda_stream_end_capture");
    if (status == FOLIO_CUDA_STATUS_OK) *graph = g;
    return status;
}

extern "C" int32_t folio_cuda_graph_instantiate(void* graph, void** exec) {
    FOLIO_REQUIRE(graph && exec, "cuda_graph_instantiate: graph and exec must be non-null");
    cudaGraphExec_t e = nullptr;
    const int32_t status = folio::cuda_result(cudaGraphInstantiateWithFlags(&e, static_cast<cudaGraph_t>(graph), 0),
                                              "cuda_graph_instantiate");
    if (status == FOLIO_CUDA_STATUS_OK) *exec = e;
    return status;
}

extern "C" int32_t folio_cuda_graph_launch(void* exec, void* stream) {
    FOLIO_REQUIRE(exec, "cuda_graph_launch: exec must be non-null");
    return folio::cuda_result(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), static_cast<cudaStream_t>(stream)),
                              "cuda_graph_launch");
}

extern "C" int32_t folio_cuda_graph_destroy(void* graph) {
    if (!graph) return folio::ok();
    return folio::cuda_result(cudaGraphDestroy(static_cast<cudaGraph_t>(graph)), "cuda_graph_destroy");
}

extern "C" int32_t folio_cuda_graph_exec_destroy(void* exec) {
    if (!exec) return folio::ok();
    return folio::cuda_result(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec)), "cuda_graph_exec_destroy");
}

/*
 * folio_cuda_runtime.h — part of folio_cuda.h: device memory, streams, events and CUDA graphs, for a host without a
 * CUDA runtime of its own.
 *
 * Include folio_cuda.h, not this file: folio_cuda.h holds the conventions every function here follows, the
 * version macros, FOLIO_CUDA_API, the status codes and the paged-cache view, and includes its parts in order
 * (folio_cuda_runtime.h, folio_cuda_attention.h, folio_cuda_model_ops.h). The parts together are the
 * specification; the drift tests read them through folio_cuda.h.
 */
#ifndef FOLIO_CUDA_RUNTIME_H
#define FOLIO_CUDA_RUNTIME_H

#ifndef FOLIO_CUDA_H
#error "include folio_cuda.h, not folio_cuda_runtime.h"
#endif

/* ---------------------------------------------------------------------------------------------------
 * Device memory and streams, so that a host without the CUDA runtime of its own (the .NET backend, a C
 * host) can hold the buffers and the stream the kernels need. Thin wrappers of the CUDA runtime on the
 * current device; failures return FOLIO_CUDA_STATUS_CUDA_ERROR with the runtime's message.
 *   folio_cuda_malloc:      *ptr = bytes of device memory (bytes 0 gives NULL and succeeds).
 *   folio_cuda_host_alloc:  *ptr = bytes of pinned host memory, mapped into the device's address space
 *                           (for folio_block_swap and asynchronous copies).
 *   folio_cuda_free / folio_cuda_host_free: release; NULL does nothing and succeeds.
 *   folio_cuda_stream_create: *stream = a new non-blocking stream; folio_cuda_stream_destroy releases it
 *                           (NULL does nothing) after the work enqueued on it completes.
 *   folio_cuda_memcpy_async: bytes from src to dst in stream order; either side may be device or pinned
 *                           (or pageable, then synchronously) host memory (unified addressing).
 *   folio_cuda_memset_async: bytes of dst set to the low byte of value, in stream order.
 *   folio_cuda_mem_get_info: free and total device memory of the current device, in bytes.
 * ------------------------------------------------------------------------------------------------- */
FOLIO_CUDA_API int32_t folio_cuda_malloc(size_t bytes, void** ptr);
FOLIO_CUDA_API int32_t folio_cuda_free(void* ptr);
FOLIO_CUDA_API int32_t folio_cuda_host_alloc(size_t bytes, void** ptr);
FOLIO_CUDA_API int32_t folio_cuda_host_free(void* ptr);
FOLIO_CUDA_API int32_t folio_cuda_stream_create(void** stream);
FOLIO_CUDA_API int32_t folio_cuda_stream_destroy(void* stream);
FOLIO_CUDA_API int32_t folio_cuda_stream_synchronize(void* stream);
FOLIO_CUDA_API int32_t folio_cuda_memcpy_async(void* dst, const void* src, size_t bytes, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_memset_async(void* dst, int32_t value, size_t bytes, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_mem_get_info(size_t* free_bytes, size_t* total_bytes);

/* ---------------------------------------------------------------------------------------------------
 * Events and graphs, for the GPU backend's step loop: ordering between streams, GPU-side timing, and decode
 * steps captured once per batch-size bucket and replayed. Thin wrappers of the CUDA runtime on the current
 * device; failures return FOLIO_CUDA_STATUS_CUDA_ERROR with the runtime's message.
 *   folio_cuda_event_create: *event = a new event; timing 1 records timestamps (folio_cuda_event_elapsed_ms),
 *                           timing 0 does not (cheaper to record and wait on). folio_cuda_event_destroy releases
 *                           it (NULL does nothing).
 *   folio_cuda_event_record: the event completes when the work enqueued on stream before it has.
 *   folio_cuda_event_synchronize: waits on the host for the event's last record.
 *   folio_cuda_event_elapsed_ms: *milliseconds between two completed records of timing events.
 *   folio_cuda_stream_wait_event: work enqueued on stream after this waits for the event's last record.
 *   folio_cuda_stream_begin_capture / _end_capture: the work enqueued on stream in between is not run but
 *                           recorded into *graph (capture mode thread-local: this thread's capture-unsafe calls,
 *                           such as folio_cuda_malloc or a synchronisation, fail while it captures). The stream
 *                           must be one of folio_cuda_stream_create (the legacy default stream cannot be captured).
 *                           Every launcher of this header can be captured; the pointers and sizes captured are
 *                           replayed as they were, so a replay reads the same buffers (update their contents).
 *   folio_cuda_graph_instantiate: *exec = an executable graph of graph (graph can then be destroyed).
 *   folio_cuda_graph_launch: enqueues one replay of exec on stream.
 *   folio_cuda_graph_destroy / folio_cuda_graph_exec_destroy: release (NULL does nothing).
 * ------------------------------------------------------------------------------------------------- */
FOLIO_CUDA_API int32_t folio_cuda_event_create(int32_t timing, void** event);
FOLIO_CUDA_API int32_t folio_cuda_event_destroy(void* event);
FOLIO_CUDA_API int32_t folio_cuda_event_record(void* event, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_event_synchronize(void* event);
FOLIO_CUDA_API int32_t folio_cuda_event_elapsed_ms(void* start, void* end, float* milliseconds);
FOLIO_CUDA_API int32_t folio_cuda_stream_wait_event(void* stream, void* event);
FOLIO_CUDA_API int32_t folio_cuda_stream_begin_capture(void* stream);
FOLIO_CUDA_API int32_t folio_cuda_stream_end_capture(void* stream, void** graph);
FOLIO_CUDA_API int32_t folio_cuda_graph_instantiate(void* graph, void** exec);
FOLIO_CUDA_API int32_t folio_cuda_graph_launch(void* exec, void* stream);
FOLIO_CUDA_API int32_t folio_cuda_graph_destroy(void* graph);
FOLIO_CUDA_API int32_t folio_cuda_graph_exec_destroy(void* exec);

#endif /* FOLIO_CUDA_RUNTIME_H */

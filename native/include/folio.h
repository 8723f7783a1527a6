/*
 * folio.h — the stable C ABI of Folio, an embeddable LLM serving engine with a paged KV cache.
 *
 * This header is the specification. libfolio.so (managed/Folio.Interop, published with NativeAOT) implements
 * it; the Python package (bindings/python/folio/_lib.py) and the C# exports mirror it, and a test
 * (bindings/python/tests/test_abi_drift.py) fails when any of them drift from this file.
 *
 * A host includes this file only. Its declarations are in three parts it includes, by level:
 * folio_common.h (constants, handles, callbacks, stats, library calls), folio_engine.h (level 1) and
 * folio_scheduler.h (level 2); this file keeps the overview, the conventions and the version macros.
 *
 * Two levels:
 *   1. The engine (folio_engine_*): load a model, tokenize, add requests, step (pull) or stream (push
 *      callback) incremental outputs, cancel, generate a batch (blocking), read stats.
 *   2. The KV cache manager and scheduler on their own (folio_kv_manager_*, folio_scheduler_*), for hosts that
 *      run their own model: folio_scheduler_schedule returns the step plan as flat arrays (sequence ids, token
 *      ids, positions, block tables, slot mapping, block copies, swap pairs, logits rows); the host runs its
 *      model and hands the sampled tokens back with folio_scheduler_update.
 *
 * Conventions
 *   - Names: folio_<object>_<verb>. Objects are opaque handles made by folio_<object>_create (or returned by a
 *     call) and released by folio_<object>_destroy, which accepts NULL and stale handles and does nothing.
 *   - Handles are checked on every call: a destroyed handle, a handle of another type or any other pointer
 *     value that this library did not hand out returns FOLIO_STATUS_INVALID_HANDLE; it never crashes.
 *   - Every fallible call returns an int32_t status: FOLIO_STATUS_OK (0) or a negative FOLIO_STATUS_* below.
 *     Results go through out-parameters, which are written only when the call returns FOLIO_STATUS_OK (except
 *     the required size of FOLIO_STATUS_BUFFER_TOO_SMALL).
 *   - folio_last_error() returns the message of the last failed call on the calling thread (thread-local,
 *     never NULL, "" when the last call succeeded). It stays valid until the next folio_ call on that thread.
 *   - Structs start with uint32_t struct_size, which the caller always sets to sizeof(the struct) of the
 *     header it was compiled with, before any call (the _init functions included); fields are only ever
 *     appended (each growth is a minor version). The library reads and writes at most struct_size bytes:
 *       - a struct_size of this struct in any released header (1.0 onwards; tests/abi-history keeps them)
 *         is accepted: an older host's missing fields take their defaults on input and are not written
 *         on output;
 *       - a larger one (a newer header) is accepted when every byte past the fields this library knows is
 *         zero (FOLIO_STATUS_STRUCT_SIZE otherwise: a newer field this library cannot honour); out-structs
 *         get that tail zeroed;
 *       - any other size (0, below ABI 1.0's struct, between two released sizes, above
 *         FOLIO_MAX_STRUCT_SIZE) returns FOLIO_STATUS_STRUCT_SIZE (FOLIO_STATUS_INVALID_ARGUMENT from an
 *         _init function) and writes nothing.
 *     Params structs get their defaults from folio_<struct>_init. Out-structs (outputs, plan views, stats)
 *     are only written. A struct the library hands to a callback carries the library's struct_size: read a
 *     field only when struct_size covers it.
 *   - Fixed-width types only: no C bool (flags are int32_t 0/1), no enum-typed fields (enum constants are
 *     passed as int32_t).
 *   - Strings are UTF-8 with an explicit byte length (no NUL terminator needed); invalid UTF-8 returns
 *     FOLIO_STATUS_INVALID_UTF8. Strings this library returns are UTF-8, NUL-terminated, and their length
 *     (without the NUL) is given too.
 *   - Variable-length outputs use the size query idiom: pass the capacity of your buffer; when it is too
 *     small (including 0 with a NULL buffer) the call writes the required count to its out-parameter and
 *     returns FOLIO_STATUS_BUFFER_TOO_SMALL.
 *   - No exception, C++ or managed, ever crosses this boundary, and the library never exits the process.
 *
 * Thread safety
 *   Every function may be called from any thread, and every object synchronizes its own calls: steps of one
 *   engine run one at a time; folio_engine_add_text, folio_engine_add_tokens and folio_engine_cancel may be
 *   called from many threads while another thread is inside folio_engine_step (they wait for the step in
 *   progress and take effect at the next step); tokenize, detokenize and the vocabulary getters run in
 *   parallel with anything. A KV manager and its scheduler share one lock (level 2 is one host loop).
 *   Calls on different objects never wait for each other. folio_last_error is per thread. Output and plan
 *   objects are immutable once returned and may be read from any thread.
 *   Callbacks run on the thread of the call that produced them: the log callback during folio_engine_create,
 *   add and step calls; the stream callback inside folio_engine_step / folio_engine_generate, while that step
 *   holds the engine's step lock. A callback may call folio_last_error and folio_status_name and read its
 *   arguments; calling into the same engine from a callback returns FOLIO_STATUS_INVALID_STATE.
 *   Destroying an object while another thread is inside a call on it is safe: folio_engine_destroy waits for a
 *   step in flight, a call that already started either completes or returns FOLIO_STATUS_INVALID_HANDLE, and
 *   later calls return FOLIO_STATUS_INVALID_HANDLE. folio_engine_destroy from a callback of that engine
 *   does nothing but set folio_last_error (INVALID_STATE, as other re-entrant calls): the step that runs the
 *   callback still needs the engine; destroy it after the step returns.
 *
 * Versioning
 *   FOLIO_ABI_VERSION is major.minor (major << 16 | minor). The soname carries the major version
 *   (libfolio.so.1). A minor release only appends functions, struct fields and constants; a host checks
 *   folio_abi_version() >> 16 == FOLIO_ABI_VERSION_MAJOR at start-up.
 */
#ifndef FOLIO_H
#define FOLIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define FOLIO_API __declspec(dllimport)
#else
#define FOLIO_API __attribute__((visibility("default")))
#endif

#define FOLIO_ABI_VERSION_MAJOR 1
#define FOLIO_ABI_VERSION_MINOR 5
#define FOLIO_ABI_VERSION ((FOLIO_ABI_VERSION_MAJOR << 16) | FOLIO_ABI_VERSION_MINOR)

/* The largest struct_size any call accepts: guards against garbage sizes. */
#define FOLIO_MAX_STRUCT_SIZE 4096


/* The declarations, by level (each part says what it holds; they are one specification, in this order). */
#include "folio_common.h"     /* constants, handles, callbacks, stats, library calls */
#include "folio_engine.h"     /* level 1: the engine */
#include "folio_scheduler.h"  /* level 2: the KV cache manager and the scheduler */

#ifdef __cplusplus
}
#endif

#endif /* FOLIO_H */

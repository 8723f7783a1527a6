"""folio.h's version macros and enums, mirrored for ctypes (part of the mirror that folio/_lib.py gathers).

tests/test_abi_drift.py compares these with the header through `ENUMS` and `enum_values`.
"""

from __future__ import annotations

ABI_VERSION_MAJOR = 1
ABI_VERSION_MINOR = 5
MAX_STRUCT_SIZE = 4096

# enum folio_status
STATUS_OK = 0
STATUS_INVALID_ARGUMENT = -1
STATUS_INVALID_HANDLE = -2
STATUS_STRUCT_SIZE = -3
STATUS_INVALID_UTF8 = -4
STATUS_TOKEN_OUT_OF_RANGE = -5
STATUS_BUFFER_TOO_SMALL = -6
STATUS_NOT_FOUND = -7
STATUS_MODEL_LOAD = -8
STATUS_REQUEST_REJECTED = -9
STATUS_INVALID_STATE = -10
STATUS_UNSUPPORTED = -11
STATUS_INTERNAL = -100

# enum folio_finish_reason
FINISH_NONE = 0
FINISH_STOP = 1
FINISH_LENGTH = 2
FINISH_ABORT = 3
FINISH_REJECTED = 4

# enum folio_log_level
LOG_TRACE = 0
LOG_DEBUG = 1
LOG_INFO = 2
LOG_WARN = 3
LOG_ERROR = 4
LOG_NONE = 5

# enum folio_device
DEVICE_CPU = 0
DEVICE_CUDA = 1

# enum folio_preemption_mode
PREEMPTION_RECOMPUTE = 0
PREEMPTION_SWAP = 1

# enum folio_scheduling_policy (ABI 1.2)
SCHEDULING_FCFS = 0
SCHEDULING_PRIORITY = 1

# enum folio_structured_output (ABI 1.3)
STRUCTURED_NONE = 0
STRUCTURED_JSON = 1
STRUCTURED_REGEX = 2
STRUCTURED_CHOICE = 3
STRUCTURED_GRAMMAR = 4
STRUCTURED_JSON_OBJECT = 5
# enum folio_quantization (ABI 1.3)
QUANTIZATION_NONE = 0
QUANTIZATION_INT8 = 1
QUANTIZATION_INT4 = 2  # ABI 1.4
# enum folio_dtype (ABI 1.4)
DTYPE_AUTO = 0
DTYPE_FLOAT32 = 1
DTYPE_BFLOAT16 = 2
DTYPE_FLOAT16 = 3
# enum folio_kv_cache_dtype (ABI 1.5)
KV_CACHE_DTYPE_AUTO = 0
KV_CACHE_DTYPE_F32 = 1
KV_CACHE_DTYPE_BF16 = 2

# The header's enums by name, for the drift test: {"folio_status": {"FOLIO_STATUS_OK": 0, ...}, ...}.
ENUMS = {
    "folio_status": "STATUS_",
    "folio_finish_reason": "FINISH_",
    "folio_log_level": "LOG_",
    "folio_device": "DEVICE_",
    "folio_preemption_mode": "PREEMPTION_",
    "folio_scheduling_policy": "SCHEDULING_",
    "folio_structured_output": "STRUCTURED_",
    "folio_quantization": "QUANTIZATION_",
    "folio_dtype": "DTYPE_",
    "folio_kv_cache_dtype": "KV_CACHE_DTYPE_",
}


def enum_values(enum_name: str) -> dict[str, int]:
    prefix = ENUMS[enum_name]
    return {"FOLIO_" + k: v for k, v in globals().items() if k.startswith(prefix) and isinstance(v, int)}

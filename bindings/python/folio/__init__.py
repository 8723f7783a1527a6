"""Folio: an embeddable LLM serving engine with a paged KV cache (PagedAttention), through libfolio.so.

    import folio
    print(folio.LLM("builtin:tiny").generate("Hello", folio.SamplingParams(max_tokens=16))[0].outputs[0].text)

Import-light on purpose: nothing loads libfolio.so until a name that needs it is used, and `folio.ops` (the
CUDA kernels, which need PyTorch and libfolio_cuda.so) is imported only when asked for.
"""

from __future__ import annotations

import importlib

__all__ = ["LLM", "SamplingParams", "StructuredOutputsParams", "RequestOutput", "CompletionOutput", "StepOutput", "Scheduler",
           "KVCacheManager", "StepPlan", "FolioError", "InvalidArgumentError", "InvalidHandleError",
           "StructSizeError", "InvalidUtf8Error", "TokenOutOfRangeError", "BufferTooSmallError", "NotFoundError",
           "ModelLoadError", "RequestRejectedError", "InvalidStateError", "UnsupportedError", "InternalError",
           "abi_version", "ops"]

_WHERE = {
    "LLM": "llm",
    "SamplingParams": "sampling",
    "StructuredOutputsParams": "structured_outputs",
    "RequestOutput": "outputs", "CompletionOutput": "outputs", "StepOutput": "outputs",
    "Scheduler": "scheduler", "KVCacheManager": "scheduler", "StepPlan": "scheduler",
    **{name: "errors" for name in __all__ if name.endswith("Error")},
}


def abi_version() -> tuple[int, int]:
    """(major, minor) of the loaded libfolio.so."""
    from . import _lib
    v = _lib.lib().folio_abi_version()
    return v >> 16, v & 0xFFFF


def __getattr__(name: str):
    if name == "ops":  # the CUDA kernels' wrappers (folio/ops.py): imported only when asked for
        return importlib.import_module(".ops", __name__)
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'folio' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value

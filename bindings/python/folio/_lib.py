"""The ctypes mirror of native/include/folio.h, and the loaded library.

The mirror is declared once, in three modules by what they hold: folio/_abi_enums.py (version macros, enums),
folio/_abi_structs.py (handle types, callbacks, structs) and folio/_abi_functions.py (every function's signature).
This module re-exports all of it, so the package reads everything as `_lib.NAME`, and loads the library
(`lib()`: every function declared, the ABI major version checked). tests/test_abi_drift.py parses folio.h with
libclang and fails when anything here drifts from it.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from ._abi_enums import *  # noqa: F401,F403  (re-exported: the package's one place to read the ABI from)
from ._abi_enums import ABI_VERSION_MAJOR
from ._abi_functions import FUNCTIONS
from ._abi_structs import *  # noqa: F401,F403
from ._abi_structs import folio_engine_params, folio_kv_manager_params, folio_sampling_params, folio_scheduler_params


class LibraryNotFound(OSError):
    pass


def library_path() -> Path:
    """FOLIO_LIB when set, else libfolio.so.1 / libfolio.so next to this package."""
    env = os.environ.get("FOLIO_LIB")
    if env:
        path = Path(env)
        if not path.is_file():
            raise LibraryNotFound(f"FOLIO_LIB={env} is not a file")
        return path
    here = Path(__file__).resolve().parent
    for name in ("libfolio.so.1", "libfolio.so"):
        if (here / name).is_file():
            return here / name
    raise LibraryNotFound(
        f"libfolio.so not found in {here} and FOLIO_LIB is not set; publish it with "
        "scripts/publish-libfolio.sh and set FOLIO_LIB=/path/to/libfolio.so")


_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """The loaded library with every function declared; checks the ABI major version once."""
    global _lib
    if _lib is None:
        handle = ctypes.CDLL(str(library_path()))
        for name, (restype, argtypes) in FUNCTIONS.items():
            fn = getattr(handle, name)
            fn.restype = restype
            fn.argtypes = argtypes
        version = handle.folio_abi_version()
        if version >> 16 != ABI_VERSION_MAJOR:
            raise ImportError(
                f"{library_path()} implements ABI {version >> 16}.{version & 0xFFFF}, this package needs "
                f"{ABI_VERSION_MAJOR}.x")
        _lib = handle
    return _lib


def init_struct(cls):
    """A params/out struct with struct_size set (out-structs) — params also get their library defaults."""
    value = cls()
    value.struct_size = ctypes.sizeof(cls)
    init = {
        folio_engine_params: "folio_engine_params_init",
        folio_sampling_params: "folio_sampling_params_init",
        folio_kv_manager_params: "folio_kv_manager_params_init",
        folio_scheduler_params: "folio_scheduler_params_init",
    }.get(cls)
    if init is not None:
        from .errors import check
        check(getattr(lib(), init)(ctypes.byref(value)))
    return value


class OwnedHandle:
    """A library handle the object owns (in `_handle`): close() destroys it once with the `_destroy` function
    (a folio_*_destroy name); the object closes itself when collected."""
    _destroy: str

    def close(self) -> None:
        if getattr(self, "_handle", None) is not None:
            getattr(lib(), self._destroy)(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass

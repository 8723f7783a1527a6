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


# x86-64-v4's AVX-512 subsets: the CPU flags the AVX-512 build of libfolio needs (Linux lists a flag only where the
# kernel enabled its register state).
_X86_64_V4_FLAGS = frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})
_NAMES = ("libfolio.so.1", "libfolio.so")


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The first processor's flags in /proc/cpuinfo (empty where there is none: not Linux on x86)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def pick_library(folder: Path, flags: frozenset[str]) -> Path | None:
    """The library in folder as glibc's loader picks it for a C host: glibc-hwcaps/x86-64-v4/ (the AVX-512 build,
    scripts/publish-libfolio.sh) where the CPU has its flags, else the x86-64-v3 build in folder; None if neither."""
    candidates = []
    if _X86_64_V4_FLAGS <= flags:
        candidates.append(folder / "glibc-hwcaps" / "x86-64-v4")
    candidates.append(folder)
    for directory in candidates:
        for name in _NAMES:
            if (directory / name).is_file():
                return directory / name
    return None


def library_path() -> Path:
    """FOLIO_LIB when it names a file; else the library in FOLIO_LIB's folder or, unset, next to this package, the
    build for this CPU (pick_library)."""
    env = os.environ.get("FOLIO_LIB")
    if env:
        path = Path(env)
        if path.is_file():
            return path
        if not path.is_dir():
            raise LibraryNotFound(f"FOLIO_LIB={env} is neither a file nor a folder")
        found = pick_library(path, cpu_flags())
        if found is None:
            raise LibraryNotFound(f"FOLIO_LIB={env} holds no libfolio.so.1 or libfolio.so")
        return found
    here = Path(__file__).resolve().parent
    found = pick_library(here, cpu_flags())
    if found is not None:
        return found
    raise LibraryNotFound(
        f"libfolio.so not found in {here} and FOLIO_LIB is not set; publish it with "
        "scripts/publish-libfolio.sh and set FOLIO_LIB=/path/to/artifacts/libfolio")


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

"""folio_cuda.h is the spec of libfolio_cuda.so: the Python ctypes declarations (folio/_cuda_abi.py, which ops.py and
model_ops.py load the library with) must agree with it in every function signature, enum value, struct field,
struct layout and version constant. Needs no GPU and no PyTorch (the C# bindings have their own drift test in
tests/Folio.Cuda.Tests)."""

import ctypes
import os
import re
import types
from pathlib import Path

import pytest

import abi_model as m
from folio import _cuda_abi

HEADER = m.read_header(m.CUDA_HEADER)
# Launcher parameter structs start with struct_size; the paged-cache view is a plain view (folio_cuda.h).
VIEWS = {"folio_cuda_paged_kv"}


def diff(expected: dict, actual: dict, what: str) -> list[str]:
    problems = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            problems.append(f"{what}: {name} is in folio_cuda.h but missing")
        elif name not in expected:
            problems.append(f"{what}: {name} is not in folio_cuda.h")
        elif expected[name] != actual[name]:
            problems.append(f"{what}: {name}: folio_cuda.h has {expected[name]}, found {actual[name]}")
    return problems


def all_problems(header: m.Abi, py: m.Abi) -> list[str]:
    return (diff(header.functions, py.functions, "ctypes function") + diff(header.enums, py.enums, "Python enum")
            + diff(header.structs, py.structs, "ctypes struct")
            + diff(header.layouts, py.layouts, "ctypes struct layout")
            + diff(header.macros, py.macros, "Python constant"))


def test_cuda_header_is_read_whole():
    assert len(HEADER.functions) >= 26, sorted(HEADER.functions)
    assert HEADER.functions["folio_cuda_last_error"] == ("ptr(char)", [])
    assert "ptr(i64)" in HEADER.functions["folio_kv_write"][1] or any(
        t == "ptr(i64)" for _, t in HEADER.structs.get("folio_cuda_kv_write_params", []))
    assert HEADER.macros["FOLIO_CUDA_VERSION_MAJOR"] == _cuda_abi.VERSION_MAJOR
    assert HEADER.enums["folio_cuda_status"]["FOLIO_CUDA_STATUS_OK"] == 0
    assert all(v < 0 for k, v in HEADER.enums["folio_cuda_status"].items() if k != "FOLIO_CUDA_STATUS_OK")
    for name, fields in HEADER.structs.items():
        if name not in VIEWS:
            assert fields[0] == ("struct_size", "u32"), f"{name} must start with uint32_t struct_size"


def test_python_declarations_match_folio_cuda_h():
    assert all_problems(HEADER, m.read_cuda_python()) == []


def test_wrappers_declare_nothing_of_their_own():
    """ops.py, model_ops.py and layers.py take every declaration from _cuda_abi.py (the module this test checks)."""
    package = Path(_cuda_abi.__file__).parent
    for name in ("ops.py", "model_ops.py", "layers.py"):
        text = (package / name).read_text()
        assert not re.search(r"\bargtypes\b|\brestype\b|_fields_", text), f"{name} declares ctypes types itself"


def test_exported_symbols_match_the_header():
    library = Path(os.environ.get("FOLIO_CUDA_LIB") or m.ROOT / "build/cuda/libfolio_cuda.so")
    if not library.is_file():
        pytest.skip(f"libfolio_cuda.so not built ({library}; scripts/build-cuda.sh)")
    exported = m.exported_symbols(library)
    assert sorted(set(HEADER.functions) - exported) == [], "declared in folio_cuda.h but not exported"
    assert sorted(exported - set(HEADER.functions)) == [], "exported but not declared in folio_cuda.h"


# Header edits the Python side does not follow: each must be reported, naming what drifted.
@pytest.mark.parametrize("old,new,expect", [
    ("FOLIO_CUDA_API int32_t folio_cuda_free(void* ptr);", "FOLIO_CUDA_API int32_t folio_cuda_free(void* ptr, int32_t n);",
     "folio_cuda_free"),
    ("FOLIO_CUDA_API int32_t folio_cuda_mem_get_info(size_t* free_bytes, size_t* total_bytes);",
     "FOLIO_CUDA_API int32_t folio_cuda_mem_get_info(int32_t* free_bytes, size_t* total_bytes);",
     "folio_cuda_mem_get_info"),
    ("    FOLIO_CUDA_STATUS_UNSUPPORTED = -11,", "    FOLIO_CUDA_STATUS_UNSUPPORTED = -12,", "folio_cuda_status"),
    ("    FOLIO_CUDA_KV_LAYOUT_HND = 1", "    FOLIO_CUDA_KV_LAYOUT_HND = 1,\n    FOLIO_CUDA_KV_LAYOUT_X = 2",
     "folio_cuda_kv_layout"),
    ("    int32_t num_blocks;\n    int32_t block_size;", "    int32_t block_size;\n    int32_t num_blocks;",
     "folio_cuda_paged_kv"),
    ("    int64_t k_token_stride;", "    int32_t k_token_stride;", "folio_cuda_rope_kv_write_params"),
    ("    const uint64_t* seeds; ", "    const uint32_t* seeds; ", "folio_cuda_sample_params"),
    ("    size_t workspace_bytes;\n} folio_cuda_sample_params;",
     "    size_t workspace_bytes;\n    int32_t extra;\n} folio_cuda_sample_params;", "folio_cuda_sample_params"),
    ("#define FOLIO_CUDA_MAX_LOGPROBS 20", "#define FOLIO_CUDA_MAX_LOGPROBS 32", "FOLIO_CUDA_MAX_LOGPROBS"),
    ("#define FOLIO_CUDA_VERSION_MINOR 3", "#define FOLIO_CUDA_VERSION_MINOR 4", "FOLIO_CUDA_VERSION_MINOR"),
])
def test_header_drift_is_detected(tmp_path, old, new, expect):
    assert old in m.header_text(m.CUDA_HEADER), f"the test's anchor is gone from folio_cuda.h: {old!r}"
    problems = all_problems(m.read_header(m.mutated_header(tmp_path, old, new, m.CUDA_HEADER)), m.read_cuda_python())
    assert any(expect in p for p in problems), problems


def _stand_in(**changes) -> types.SimpleNamespace:
    """_cuda_abi with some names replaced (the module itself is left alone)."""
    names = {k: getattr(_cuda_abi, k) for k in ("FUNCTIONS", "ENUMS", "enum_values", "STRUCTS", "VERSION_MAJOR",
                                                 "VERSION_MINOR", "VERSION_PATCH", "MAX_LOGPROBS",
                                                 "GEMM_WORKSPACE_BYTES", "GEMM_BATCH_INVARIANT")}
    names["FUNCTIONS"] = dict(names["FUNCTIONS"])
    names["STRUCTS"] = dict(names["STRUCTS"])
    for key, value in changes.items():
        if key in ("FUNCTIONS", "STRUCTS"):
            names[key].update(value)
        else:
            names[key] = value
    return types.SimpleNamespace(**names)


def _with_field(struct_name: str, index: int, field) -> type:
    fields = list(_cuda_abi.STRUCTS[struct_name]._fields_)
    fields[index] = field
    return type(struct_name, (ctypes.Structure,), {"_fields_": fields})


# Python edits the header does not follow: each must be reported too.
@pytest.mark.parametrize("stand_in,expect", [
    (lambda: _stand_in(FUNCTIONS={"folio_cuda_version": (ctypes.c_int64, [])}), "folio_cuda_version"),
    (lambda: _stand_in(FUNCTIONS={"folio_sample": (ctypes.c_int32, [ctypes.c_void_p])}), "folio_sample"),
    (lambda: _stand_in(FUNCTIONS={"folio_rope_inv_freq": (
        ctypes.c_int32, [ctypes.POINTER(_cuda_abi.folio_cuda_rope_config), _cuda_abi.ptr(ctypes.c_double),
                         ctypes.c_int32])}), "folio_rope_inv_freq"),
    (lambda: _stand_in(STRUCTS={"folio_cuda_rope_config": _with_field(
        "folio_cuda_rope_config", 2, ("theta", ctypes.c_double))}), "folio_cuda_rope_config"),
    (lambda: _stand_in(STRUCTS={"folio_cuda_paged_kv": _with_field(
        "folio_cuda_paged_kv", 7, ("dtype", ctypes.c_int64))}), "folio_cuda_paged_kv"),
    (lambda: _stand_in(enum_values=lambda name: {**_cuda_abi.enum_values(name), "FOLIO_CUDA_DTYPE_F32": 3}
                       if name == "folio_cuda_dtype" else _cuda_abi.enum_values(name)), "folio_cuda_dtype"),
    (lambda: _stand_in(VERSION_MAJOR=_cuda_abi.VERSION_MAJOR + 1), "FOLIO_CUDA_VERSION_MAJOR"),
])
def test_python_drift_is_detected(stand_in, expect):
    problems = all_problems(HEADER, m.read_cuda_python(stand_in()))
    assert any(expect in p for p in problems), problems

"""The header is the spec: the exported symbols, the C# exports and mirrors, and the Python ctypes declarations
must agree with folio.h in every function signature, enum value, struct field and struct layout."""

import os
import re
import shutil
from pathlib import Path

import pytest

import abi_model as m

HEADER = m.read_header()


def diff(expected: dict, actual: dict, what: str, normalize=lambda x: x) -> list[str]:
    problems = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            problems.append(f"{what}: {name} is in folio.h but missing")
        elif name not in expected:
            problems.append(f"{what}: {name} is not in folio.h")
        elif normalize(expected[name]) != normalize(actual[name]):
            problems.append(f"{what}: {name}: folio.h has {normalize(expected[name])}, found {normalize(actual[name])}")
    return problems


def c_sharp_view(value):
    """Handles are plain nint in C#."""
    if isinstance(value, tuple):
        return (m.without_handle_names(value[0]), [m.without_handle_names(a) for a in value[1]])
    if isinstance(value, list):
        return [(n, m.without_handle_names(t)) for n, t in value]
    return value


def test_header_declares_the_whole_abi():
    assert len(HEADER.functions) >= 38
    assert {"folio_status", "folio_finish_reason", "folio_log_level", "folio_device",
            "folio_preemption_mode"} <= set(HEADER.enums)
    assert HEADER.enums["folio_status"]["FOLIO_STATUS_OK"] == 0
    assert all(v < 0 for k, v in HEADER.enums["folio_status"].items() if k != "FOLIO_STATUS_OK")
    for name, fields in HEADER.structs.items():
        assert fields[0] == ("struct_size", "u32"), f"{name} must start with uint32_t struct_size"


def test_exported_symbols_match_the_header():
    library = Path(os.environ["FOLIO_LIB"])
    assert library.is_file(), f"publish libfolio.so first ({library})"
    exported = m.exported_symbols(library)
    assert sorted(set(HEADER.functions) - exported) == [], "declared in folio.h but not exported"
    assert sorted(exported - set(HEADER.functions)) == [], "exported but not declared in folio.h"


def test_csharp_exports_match_the_header():
    cs = m.read_csharp()
    assert diff(HEADER.functions, cs.functions, "C# export", c_sharp_view) == []


def test_csharp_mirrors_match_the_header():
    cs = m.read_csharp()
    assert diff(HEADER.enums, cs.enums, "C# enum") == []
    assert diff(HEADER.structs, cs.structs, "C# struct", c_sharp_view) == []
    layouts = {name: m.layout(fields) for name, fields in cs.structs.items()}
    assert diff(HEADER.layouts, layouts, "C# struct layout") == []
    assert diff(HEADER.macros, cs.macros, "C# constant") == []


def test_python_declarations_match_the_header():
    py = m.read_python()
    assert diff(HEADER.functions, py.functions, "ctypes function") == []
    assert diff(HEADER.enums, py.enums, "Python enum") == []
    assert diff(HEADER.structs, py.structs, "ctypes struct") == []
    assert diff(HEADER.layouts, py.layouts, "ctypes struct layout") == []
    assert diff(HEADER.macros, py.macros, "Python constant") == []


@pytest.mark.parametrize("old,new,expect", [
    ("    int32_t max_tokens;", "    int64_t max_tokens;", "folio_sampling_params"),
    ("    FOLIO_STATUS_NOT_FOUND = -7,", "    FOLIO_STATUS_NOT_FOUND = -70,", "folio_status"),
    ("FOLIO_API int32_t folio_engine_cancel(folio_engine* engine, uint64_t request_id);",
     "FOLIO_API int32_t folio_engine_cancel(folio_engine* engine, int64_t request_id);", "folio_engine_cancel"),
    ("    int32_t num_top_logprobs;", "    int32_t num_top_logprobs;\n    int32_t extra;", "folio_request_output"),
    # ABI 1.2's appended fields are compared as every other field.
    ("    uint64_t reject_reason_len;", "    uint32_t reject_reason_len;", "folio_request_output"),
    ("    int32_t priority;", "    int64_t priority;", "folio_sampling_params"),
    ("    FOLIO_SCHEDULING_PRIORITY = 1", "    FOLIO_SCHEDULING_PRIORITY = 2", "folio_scheduling_policy"),
    # ABI 1.3's token constraints.
    ("    const float* logit_bias_values;", "    const double* logit_bias_values;", "folio_sampling_params"),
    ("    FOLIO_STRUCTURED_CHOICE = 3,", "    FOLIO_STRUCTURED_CHOICE = 6,", "folio_structured_output"),
    # ABI 1.5's KV cache dtype.
    ("    int32_t kv_cache_dtype;", "    int64_t kv_cache_dtype;", "folio_engine_params"),
    ("    FOLIO_KV_CACHE_DTYPE_BF16 = 2", "    FOLIO_KV_CACHE_DTYPE_BF16 = 3", "folio_kv_cache_dtype"),
])
def test_drift_is_detected(tmp_path, old, new, expect):
    """The comparison can fail: a header edited without its mirrors is reported, naming what drifted."""
    assert old in m.header_text()
    header = m.read_header(m.mutated_header(tmp_path, old, new))
    py = m.read_python()
    problems = (diff(header.functions, py.functions, "f") + diff(header.enums, py.enums, "e")
                + diff(header.structs, py.structs, "s") + diff(header.layouts, py.layouts, "l"))
    assert any(expect in p for p in problems), problems


@pytest.mark.parametrize("path,old,new,expect", [
    ("Exports/EngineExports.cs", "public static int Cancel(nint engine, ulong requestId)",
     "public static int Cancel(nint engine, long requestId)", "folio_engine_cancel"),
    ("Abi/FolioStats.cs", "    public long NumRunning;\n    public long NumWaiting;",
     "    public long NumWaiting;\n    public long NumRunning;", "folio_stats"),
    ("Abi/FolioFinishReason.cs", "    Abort = 3,", "    Abort = 5,", "folio_finish_reason"),
])
def test_csharp_drift_is_detected(tmp_path, path, old, new, expect):
    copy = tmp_path / "Folio.Interop"
    shutil.copytree(m.INTEROP, copy, ignore=shutil.ignore_patterns("bin", "obj"))
    text = (copy / path).read_text()
    assert old in text
    (copy / path).write_text(text.replace(old, new))
    cs = m.read_csharp(copy)
    problems = (diff(HEADER.functions, cs.functions, "f", c_sharp_view) + diff(HEADER.enums, cs.enums, "e")
                + diff(HEADER.structs, cs.structs, "s", c_sharp_view))
    assert any(expect in p for p in problems), problems


def test_released_struct_sizes_match_the_kept_headers():
    """StructSizes.cs (the struct_size values libfolio accepts from older hosts) lists, per released version, the
    sizeof each struct had in that release's header: tests/abi-history/folio-X.Y.h, and folio.h for this one."""
    text = (m.INTEROP / "Runtime/StructSizes.cs").read_text()
    versions = re.search(r'Versions = \[([^\]]*)\]', text).group(1).replace('"', "").replace(" ", "").split(",")
    assert versions[-1] == f"{HEADER.macros['FOLIO_ABI_VERSION_MAJOR']}.{HEADER.macros['FOLIO_ABI_VERSION_MINOR']}"
    table = {"folio_" + m.snake(name): [e.strip() for e in entries.split(",")]
             for name, entries in re.findall(r"int\[\] (\w+) = \[([^\]]*)\];", text)}
    assert set(table) == set(HEADER.structs)
    history = m.ROOT / "tests/abi-history"
    for i, version in enumerate(versions):
        header = HEADER if i == len(versions) - 1 else m.read_header(history / f"folio-{version}.h")
        for struct, entries in table.items():
            entry = entries[i]
            size = header.layouts[struct][0]
            expected = HEADER.layouts[struct][0] if entry.startswith("sizeof(") else int(entry)
            assert size == expected, f"{struct} in folio-{version}.h is {size} bytes; StructSizes.cs says {entry}"
            if i < len(versions) - 1:  # a released header declares the version it is
                assert header.macros["FOLIO_ABI_VERSION_MINOR"] == int(version.split(".")[1])

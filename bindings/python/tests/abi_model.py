"""Reads the ABI from its four places into one canonical form, for test_abi_drift.py:
folio.h (libclang), libfolio.so (nm -D), the C# exports and struct mirrors (managed/Folio.Interop), and the
Python ctypes declarations (folio/_lib.py, which gathers folio/_abi_*.py); and, for test_cuda_abi_drift.py,
folio_cuda.h and its Python mirror (folio/_cuda_abi.py). read_header parses either header, with the parts it
includes (folio.h includes folio_common.h, folio_engine.h and folio_scheduler.h; folio_cuda.h its folio_cuda_*.h).

Canonical types: i32 u32 i64 u64 f32 f64 void char, ptr(T), handle:NAME (an opaque folio_* handle; the C#
side sees only 'handle'), fn(RET;ARGS...), and struct names (folio_engine_params)."""

from __future__ import annotations

import ctypes
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEADER = ROOT / "native/include/folio.h"
CUDA_HEADER = ROOT / "native/include/folio_cuda.h"
INTEROP = ROOT / "managed/Folio.Interop"
HANDLES = {"folio_engine", "folio_kv_manager", "folio_scheduler", "folio_step_plan", "folio_outputs"}
SIZES = {"i32": 4, "u32": 4, "f32": 4, "i64": 8, "u64": 8, "f64": 8}


@dataclass
class Abi:
    functions: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    enums: dict[str, dict[str, int]] = field(default_factory=dict)
    structs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> [(field, type)]
    layouts: dict[str, tuple[int, list[int]]] = field(default_factory=dict)  # name -> (size, offsets)
    macros: dict[str, int] = field(default_factory=dict)


# ---- C: folio.h through libclang ---------------------------------------------------------------------------
def _c_type(t) -> str:
    import clang.cindex as ci
    k = t.kind
    if k == ci.TypeKind.TYPEDEF or k == ci.TypeKind.ELABORATED:
        decl = t.get_declaration()
        if decl.kind == ci.CursorKind.STRUCT_DECL and decl.spelling in HANDLES:
            return "handle:" + decl.spelling
        return _c_type(t.get_canonical())
    simple = {ci.TypeKind.INT: "i32", ci.TypeKind.UINT: "u32", ci.TypeKind.LONG: "i64", ci.TypeKind.ULONG: "u64",
              ci.TypeKind.LONGLONG: "i64", ci.TypeKind.ULONGLONG: "u64", ci.TypeKind.FLOAT: "f32",
              ci.TypeKind.DOUBLE: "f64", ci.TypeKind.VOID: "void", ci.TypeKind.CHAR_S: "char",
              ci.TypeKind.SCHAR: "char", ci.TypeKind.UCHAR: "char"}
    if k in simple:
        return simple[k]
    if k == ci.TypeKind.POINTER:
        pointee = t.get_pointee()
        if pointee.get_canonical().kind == ci.TypeKind.FUNCTIONPROTO:
            return _c_fn(pointee.get_canonical())
        inner = _c_type(pointee)
        return inner if inner.startswith("handle:") and _is_handle_struct(pointee) else f"ptr({inner})"
    if k == ci.TypeKind.RECORD:
        name = t.get_declaration().spelling
        return ("handle:" + name) if name in HANDLES else name
    raise ValueError(f"unmapped C type {t.spelling} ({k})")


def _is_handle_struct(t) -> bool:
    return t.get_canonical().get_declaration().spelling in HANDLES


def _c_fn(proto) -> str:
    args = ",".join(_c_type(a) for a in proto.argument_types())
    return f"fn({_c_type(proto.get_result())};{args})"


_LOCAL_INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)


def header_parts(path: Path = HEADER) -> list[Path]:
    """The header and the parts it includes from its own directory (#include "folio_*.h"), in include order:
    a public header is one specification split into files a reader can take in."""
    parts = [path]
    for name in _LOCAL_INCLUDE.findall(path.read_text()):
        part = path.parent / name
        if part.exists() and part not in parts:
            parts += [p for p in header_parts(part) if p not in parts]
    return parts


def header_text(path: Path = HEADER) -> str:
    """The text of the header and all its parts (for anchors that tests look for)."""
    return "\n".join(p.read_text() for p in header_parts(path))


def mutated_header(directory: Path, old: str, new: str, path: Path = HEADER) -> Path:
    """A copy of the header and its parts in `directory`, with `old` replaced by `new` in the one file that holds
    it; returns the copy of the header (what a test parses to see that the change is reported)."""
    holders = [p for p in header_parts(path) if old in p.read_text()]
    assert len(holders) == 1, f"{old!r} is in {len(holders)} of {path.name}'s files, not one"
    for part in header_parts(path):
        text = part.read_text()
        (directory / part.name).write_text(text.replace(old, new) if part == holders[0] else text)
    return directory / path.name


def read_header(path: Path = HEADER) -> Abi:
    import clang.cindex as ci
    index = ci.Index.create()
    tu = index.parse(str(path), args=["-x", "c", "-std=c11"],
                     options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise ValueError(f"{path} does not parse: {errors[0]}")
    abi = Abi()
    files = {p.resolve() for p in header_parts(path)}
    for c in tu.cursor.get_children():
        if c.location.file is None or Path(c.location.file.name).resolve() not in files:
            continue
        if c.kind == ci.CursorKind.FUNCTION_DECL:
            abi.functions[c.spelling] = (_c_type(c.result_type), [_c_type(a.type) for a in c.get_arguments()])
        elif c.kind == ci.CursorKind.ENUM_DECL and c.spelling:
            abi.enums[c.spelling] = {e.spelling: e.enum_value for e in c.get_children()}
        elif c.kind == ci.CursorKind.STRUCT_DECL and c.is_definition() and c.spelling not in HANDLES:
            fields = [f for f in c.get_children() if f.kind == ci.CursorKind.FIELD_DECL]
            abi.structs[c.spelling] = [(f.spelling, _c_type(f.type)) for f in fields]
            abi.layouts[c.spelling] = (c.type.get_size(), [c.type.get_offset(f.spelling) // 8 for f in fields])
        elif c.kind == ci.CursorKind.MACRO_DEFINITION:
            tokens = [t.spelling for t in c.get_tokens()]
            if len(tokens) == 2 and tokens[1].isdigit():
                abi.macros[tokens[0]] = int(tokens[1])
    return abi


# ---- the shared library ------------------------------------------------------------------------------------
def exported_symbols(library: Path) -> set[str]:
    out = subprocess.run(["nm", "-D", "--defined-only", str(library)], check=True, capture_output=True,
                         text=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if line.split() and line.split()[-1].startswith("folio_")}


# ---- C#: exports and struct mirrors --------------------------------------------------------------------------
_CS_SIMPLE = {"int": "i32", "uint": "u32", "long": "i64", "ulong": "u64", "float": "f32", "double": "f64",
              "void": "void", "byte": "char", "nint": "handle"}


def _split_args(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _cs_type(text: str) -> str:
    text = text.strip()
    m = re.fullmatch(r"delegate\*\s*unmanaged\s*<(.*)>", text)
    if m:
        types = [_cs_type(t) for t in _split_args(m.group(1))]
        return f"fn({types[-1]};{','.join(types[:-1])})"
    if text.endswith("*"):
        return f"ptr({_cs_type(text[:-1])})"
    if text in _CS_SIMPLE:
        return _CS_SIMPLE[text]
    if text.startswith("Folio"):
        return "folio_" + snake(text[len("Folio"):])
    raise ValueError(f"unmapped C# type {text}")


def read_csharp(root: Path = INTEROP) -> Abi:
    abi = Abi()
    export = re.compile(r'\[UnmanagedCallersOnly\(EntryPoint = "(\w+)"\)\]\s*public static ([\w*]+) \w+\(([^)]*)\)')
    for path in sorted((root / "Exports").glob("*.cs")):
        for name, ret, args in export.findall(path.read_text()):
            types = [_cs_type(a.rsplit(" ", 1)[0]) for a in _split_args(args)]
            abi.functions[name] = (_cs_type(ret), types)
    for path in sorted((root / "Abi").glob("*.cs")):
        text = path.read_text()
        struct = re.search(r"public (?:unsafe )?struct (\w+)", text)
        enum = re.search(r"public enum (\w+)", text)
        if struct:
            c_name = "folio_" + snake(struct.group(1)[len("Folio"):])
            fields = re.findall(r"public ([\w*<>, ]+?) (\w+);", text)
            abi.structs[c_name] = [(snake(n), _cs_type(t)) for t, n in fields]
        elif enum:
            c_name = "folio_" + snake(enum.group(1)[len("Folio"):])
            prefix = {"folio_status": "FOLIO_STATUS_", "folio_finish_reason": "FOLIO_FINISH_",
                      "folio_log_level": "FOLIO_LOG_", "folio_device": "FOLIO_DEVICE_",
                      "folio_preemption_mode": "FOLIO_PREEMPTION_",
                      "folio_scheduling_policy": "FOLIO_SCHEDULING_",
                      "folio_structured_output": "FOLIO_STRUCTURED_",
                      "folio_quantization": "FOLIO_QUANTIZATION_", "folio_dtype": "FOLIO_DTYPE_",
                      "folio_kv_cache_dtype": "FOLIO_KV_CACHE_DTYPE_"}[c_name]
            values = re.findall(r"^\s*(\w+) = (-?\d+),", text, re.MULTILINE)
            abi.enums[c_name] = {prefix + snake(n).upper(): int(v) for n, v in values}
    version = (root / "Abi/AbiVersion.cs").read_text()
    for key, macro in (("Major", "FOLIO_ABI_VERSION_MAJOR"), ("Minor", "FOLIO_ABI_VERSION_MINOR"),
                       ("MaxStructSize", "FOLIO_MAX_STRUCT_SIZE")):
        abi.macros[macro] = int(re.search(rf"const \w+ {key} = (\d+);", version).group(1))
    return abi


def layout(fields: list[tuple[str, str]]) -> tuple[int, list[int]]:
    """C layout of a struct of canonical field types (what the CLR's sequential layout also does)."""
    offset, offsets, align = 0, [], 1
    for _, t in fields:
        size = SIZES.get(t, 8)  # pointers, handles and function pointers: 8 on the 64-bit targets
        offset = (offset + size - 1) // size * size
        offsets.append(offset)
        offset += size
        align = max(align, size)
    return (offset + align - 1) // align * align, offsets


# ---- Python ctypes -------------------------------------------------------------------------------------------
def _py_type(t) -> str:
    from folio import _lib
    if t is None:
        return "void"
    if isinstance(t, type) and issubclass(t, ctypes.c_void_p) and hasattr(t, "_pointee_"):
        return f"ptr({_py_type(t._pointee_)})"  # _cuda_abi.ptr(T): a typed pointer that takes addresses
    simple = {ctypes.c_int32: "i32", ctypes.c_uint32: "u32", ctypes.c_int64: "i64", ctypes.c_uint64: "u64",
              ctypes.c_float: "f32", ctypes.c_double: "f64", ctypes.c_char: "char", ctypes.c_char_p: "ptr(char)",
              ctypes.c_void_p: "ptr(void)"}
    if t in simple:
        return simple[t]
    for name, handle in _lib.HANDLE_TYPES.items():
        if t is handle:
            return "handle:" + name
    if isinstance(t, type) and issubclass(t, ctypes.Structure):
        return t.__name__
    if hasattr(t, "_type_") and isinstance(t, type) and issubclass(t, ctypes._Pointer):
        return f"ptr({_py_type(t._type_)})"
    if hasattr(t, "_argtypes_") and hasattr(t, "_restype_"):
        return f"fn({_py_type(t._restype_)};{','.join(_py_type(a) for a in t._argtypes_)})"
    raise ValueError(f"unmapped ctypes type {t}")


def read_python() -> Abi:
    from folio import _lib
    abi = Abi()
    for name, (ret, args) in _lib.FUNCTIONS.items():
        abi.functions[name] = (_py_type(ret), [_py_type(a) for a in args])
    for name in _lib.ENUMS:
        abi.enums[name] = _lib.enum_values(name)
    for name, cls in _lib.STRUCTS.items():
        abi.structs[name] = [(f, _py_type(t)) for f, t in cls._fields_]
        abi.layouts[name] = (ctypes.sizeof(cls), [getattr(cls, f).offset for f, _ in cls._fields_])
    abi.macros = {"FOLIO_ABI_VERSION_MAJOR": _lib.ABI_VERSION_MAJOR, "FOLIO_ABI_VERSION_MINOR": _lib.ABI_VERSION_MINOR,
                  "FOLIO_MAX_STRUCT_SIZE": _lib.MAX_STRUCT_SIZE}
    return abi


def read_cuda_python(module=None) -> Abi:
    """folio/_cuda_abi.py (or a stand-in module with the same names) in canonical form."""
    if module is None:
        from folio import _cuda_abi as module
    abi = Abi()
    for name, (ret, args) in module.FUNCTIONS.items():
        abi.functions[name] = (_py_type(ret), [_py_type(a) for a in args])
    for name in module.ENUMS:
        abi.enums[name] = module.enum_values(name)
    for name, cls in module.STRUCTS.items():
        abi.structs[name] = [(f, _py_type(t)) for f, t in cls._fields_]
        abi.layouts[name] = (ctypes.sizeof(cls), [getattr(cls, f).offset for f, _ in cls._fields_])
    abi.macros = {"FOLIO_CUDA_VERSION_MAJOR": module.VERSION_MAJOR, "FOLIO_CUDA_VERSION_MINOR": module.VERSION_MINOR,
                  "FOLIO_CUDA_VERSION_PATCH": module.VERSION_PATCH, "FOLIO_CUDA_MAX_LOGPROBS": module.MAX_LOGPROBS,
                  "FOLIO_CUDA_GEMM_WORKSPACE_BYTES": module.GEMM_WORKSPACE_BYTES,
                  "FOLIO_CUDA_GEMM_BATCH_INVARIANT": module.GEMM_BATCH_INVARIANT}
    return abi


def without_handle_names(t: str) -> str:
    """The C# side declares every handle as nint."""
    return re.sub(r"handle:\w+", "handle", t)

"""Which build of libfolio the package loads: the AVX-512 one in glibc-hwcaps/x86-64-v4/ where the CPU runs it, as
glibc's loader picks for a C host (scripts/publish-libfolio.sh publishes both), else the x86-64-v3 one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from folio import _lib

V4 = frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "avx2", "fma"})
V3 = frozenset({"avx2", "fma", "f16c", "bmi2"})


def _publish_layout(root: Path, base: bool = True, v4: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if base:
        (root / "libfolio.so").write_bytes(b"")
    if v4:
        hw = root / "glibc-hwcaps" / "x86-64-v4"
        hw.mkdir(parents=True)
        (hw / "libfolio.so.1").write_bytes(b"")
    return root


def test_an_avx512_cpu_gets_the_hwcaps_build(tmp_path):
    root = _publish_layout(tmp_path)
    assert _lib.pick_library(root, V4) == root / "glibc-hwcaps" / "x86-64-v4" / "libfolio.so.1"


def test_a_cpu_without_every_avx512_subset_gets_the_base_build(tmp_path):
    root = _publish_layout(tmp_path)
    assert _lib.pick_library(root, V3) == root / "libfolio.so"
    assert _lib.pick_library(root, V4 - {"avx512vl"}) == root / "libfolio.so"


def test_a_folder_without_the_hwcaps_build_gives_the_base_one_and_an_empty_folder_none(tmp_path):
    assert _lib.pick_library(_publish_layout(tmp_path / "a", v4=False), V4) == tmp_path / "a" / "libfolio.so"
    (tmp_path / "b").mkdir()
    assert _lib.pick_library(tmp_path / "b", V4) is None


def test_cpu_flags_reads_the_first_processor(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert _lib.cpu_flags(str(info)) == {"fpu", "avx2", "avx512f"}
    assert _lib.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_folio_lib_naming_a_folder_loads_the_build_for_this_cpu():
    # A fresh interpreter: the library loads once per process. FOLIO_LIB names the published folder.
    folder = Path(os.environ["FOLIO_LIB"]).parent
    if not (folder / "glibc-hwcaps" / "x86-64-v4").is_dir():
        pytest.skip(f"{folder} has no glibc-hwcaps/x86-64-v4 build (published before it existed)")
    script = (
        "import folio\n"
        "lines = []\n"
        "with folio.LLM('builtin:tiny', num_threads=1, log_level='info', log_callback=lambda l, m: lines.append(m)):\n"
        "    pass\n"
        "print(folio._lib.library_path())\n"
        "print([m for m in lines if 'engine created' in m][0])\n")
    env = dict(os.environ, FOLIO_LIB=str(folder), PYTHONPATH=str(Path(_lib.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    path, created = out.stdout.strip().splitlines()[-2:]
    if _lib._X86_64_V4_FLAGS <= _lib.cpu_flags():
        assert path == str(folder / "glibc-hwcaps" / "x86-64-v4" / "libfolio.so.1")
        assert "Vector512" in created and "Vector256" not in created
    else:
        assert path == str(folder / "libfolio.so.1")
        assert "Vector256" in created and "Vector512" not in created

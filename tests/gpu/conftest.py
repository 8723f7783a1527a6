"""GPU tests of libfolio_cuda.so (run on the GPU machine only: `python3 -m pytest tests/gpu`).

Without a CUDA device (or without PyTorch) every test here is reported as skipped, never as passed; CI
does not run this directory."""
import sys
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device: tests/gpu runs on the GPU machine", allow_module_level=True)


@pytest.fixture(autouse=True)
def _seed(request):
    # A fresh, reproducible draw per test (the test id seeds it), so every case sees different data.
    torch.manual_seed(zlib.crc32(request.node.nodeid.encode()))
    yield
    torch.cuda.synchronize()

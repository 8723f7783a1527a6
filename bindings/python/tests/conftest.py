import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bindings/python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# The library under test: FOLIO_LIB, else what scripts/publish-libfolio.sh published.
if "FOLIO_LIB" not in os.environ:
    os.environ["FOLIO_LIB"] = str(ROOT / "artifacts/libfolio/libfolio.so")

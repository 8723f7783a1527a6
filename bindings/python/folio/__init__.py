"""Folio's Python package. Import-light on purpose: submodules such as `folio.ops` (the CUDA kernels,
which need PyTorch and libfolio_cuda.so) are imported explicitly by whoever needs them."""

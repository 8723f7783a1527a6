#!/usr/bin/env bash
# build-cuda.sh: configures and builds libfolio_cuda.so into build/cuda (CMake).
# On CI and development machines (Debian's nvcc 11.8) clang++-14 is the CUDA host compiler; elsewhere
# (the GPU machine's nvcc 12/13) nvcc's default host compiler is used. Extra arguments go to cmake's
# configure step (e.g. -DCMAKE_CUDA_ARCHITECTURES=90).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
command -v nvcc >/dev/null || { echo "build-cuda: nvcc not found (scripts/ensure-deps.sh cuda installs it)" >&2; exit 1; }
nvcc_version=$(nvcc --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1.\2/p')
args=(-S . -B build/cuda -DCMAKE_BUILD_TYPE=Release)
if [[ ${nvcc_version%%.*} -lt 12 ]] && command -v clang++-14 >/dev/null; then
    # nvcc 11.8 accepts clang up to 14 as host compiler; Debian's default g++ is too new for it.
    args+=(-DCMAKE_CUDA_HOST_COMPILER=clang++-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14)
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f build/cuda/CMakeCache.txt || $# -gt 0 ]]; then
    cmake "${generator[@]}" "${args[@]}" "$@"
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build build/cuda -j "$jobs"
echo "build-cuda: built $(ls build/cuda/libfolio_cuda.so) with nvcc $nvcc_version"

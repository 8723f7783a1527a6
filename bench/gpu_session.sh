#!/usr/bin/env bash
# gpu_session.sh MODE: one call on the GPU machine (logs under $OUT, or /tmp/folio-gpu without it).
#   test   build libfolio_cuda.so (sm_90), run the header check and pytest tests/gpu
#   bench  run bench/kernels.py (B6 grid, prefill, block copy/swap) on the library already built
#   all    both
# Extra arguments after MODE go to bench/kernels.py.
set -uo pipefail
mode=${1:-all}; shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=${OUT:-/tmp/folio-gpu}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 PATH="$PATH:/usr/local/cuda/bin"
status=0
if [[ $mode == test || $mode == all ]]; then
    { nvidia-smi; nvcc --version; python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } \
        > "$out/env.txt" 2>&1
    head -20 "$out/env.txt"
    t0=$SECONDS
    if ! scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 -DFOLIO_CUDA_RESOURCE_USAGE=ON > "$out/build.log" 2>&1; then
        echo "BUILD FAILED with -Werror; retrying with warnings allowed (see build.log)"
        grep -E "error|warning" "$out/build.log" | head -20
        scripts/build-cuda.sh -DFOLIO_CUDA_WERROR=OFF > "$out/build-nowerror.log" 2>&1 || { tail -30 "$out/build-nowerror.log"; exit 1; }
        status=1
    fi
    echo "build: $((SECONDS - t0)) s"; grep -E "Used [0-9]+ registers|spill" "$out/build.log" | sort | uniq -c | head -30
    build/cuda/folio_cuda_header_check || status=1
    t0=$SECONDS
    python3 -m pytest tests/gpu -q -rfE -p no:cacheprovider --junitxml="$out/pytest.xml" > "$out/pytest.log" 2>&1 || status=1
    echo "pytest: $((SECONDS - t0)) s"; tail -25 "$out/pytest.log"
fi
if [[ $mode == bench || $mode == all ]]; then
    python3 bench/kernels.py --json "$out/kernels.json" "$@" 2>&1 | tee "$out/bench.log" || status=1
fi
exit $status

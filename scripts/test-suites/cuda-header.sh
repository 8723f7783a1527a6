#!/usr/bin/env bash
# cuda-header suite: the CUDA library's C ABI refusals, checked without a GPU (host-side validation only).
# Runs when libfolio_cuda.so was built (scripts/build-cuda.sh; .ci/run does it); otherwise the suite is skipped.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
check="$root/build/cuda/folio_cuda_header_check"
if [[ ! -x $check ]]; then
    echo "cuda-header: skipped (build/cuda not built; run scripts/build-cuda.sh)"
    echo "SUITE 0 0 1"
    exit 0
fi
out=$("$check"); status=$?
echo "$out"
passed=$(grep -c '^ok ' <<<"$out")
failed=$(grep -c '^FAIL' <<<"$out")
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "SUITE $passed $failed 0"

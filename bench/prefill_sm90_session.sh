#!/usr/bin/env bash
# prefill_sm90_session.sh: one GPU-machine call for the sm_90a (wgmma) prefill kernel: build libfolio_cuda.so
# for sm_90 (+ the compute_90a object), check that the kernel holds HGMMA instructions, run the prefill tests of
# tests/gpu, then time the prefill benchmark (8 x 4k causal, d128, bf16) beside SDPA and the mma.sync kernel in
# the same process. Logs under $OUT (or /tmp/folio-prefill-sm90); a short summary is printed last.
#   PYTEST_K  pytest -k expression (default: prefill)
#   SKIP_BENCH=1  tests only
set -uo pipefail
# The sm_90a kernel for the benchmark's prefill calls, unless the caller chose (the build default may be off):
# bench/kernels.py reads FOLIO_PREFILL_KERNEL (auto, sm80, sm90) and passes it to each call; the library reads no
# environment, and the tests ask for each kernel themselves.
export FOLIO_PREFILL_KERNEL=${FOLIO_PREFILL_KERNEL:-sm90}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=${OUT:-/tmp/folio-prefill-sm90}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 PATH="$PATH:/usr/local/cuda/bin" PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
summary=()
t0=$SECONDS
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; nvcc --version | tail -2; } > "$out/env.txt" 2>&1
if ! scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 -DFOLIO_CUDA_RESOURCE_USAGE=ON > "$out/build.log" 2>&1; then
    summary+=("BUILD FAILED with -Werror (see build.log); retried with warnings allowed")
    grep -E "error|warning" "$out/build.log" | head -20
    scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 -DFOLIO_CUDA_WERROR=OFF >> "$out/build.log" 2>&1 \
        || { tail -40 "$out/build.log"; exit 1; }
fi
summary+=("build: $((SECONDS - t0)) s; $(grep -o 'sm_90a prefill kernel [a-z ]*' "$out/build.log" | head -1)")
# Extra library builds for same-run comparisons ("name:cmake args", space-separated; args joined by ','):
# build/cuda-NAME/libfolio_cuda.so, selected in BENCH_VARIANTS with FOLIO_CUDA_LIB=build/cuda-NAME/libfolio_cuda.so.
for vb in ${VARIANT_BUILDS:-}; do
    name=${vb%%:*}; IFS=, read -r -a vargs <<< "${vb#*:}"
    t0=$SECONDS
    { cmake -S . -B "build/cuda-$name" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 "${vargs[@]}" \
        && cmake --build "build/cuda-$name"; } > "/tmp/build-$name.log" 2>&1 \
        || { summary+=("variant build $name FAILED"); tail -5 "/tmp/build-$name.log"; }
    summary+=("variant build $name: $((SECONDS - t0)) s")
done
grep -A3 "paged_prefill_sm90_kernel" "$out/build.log" | grep -E "registers|spill|C75" | sort | uniq -c | head -8
grep -E "C75[0-9]+" "$out/build.log" | head -4
hgmma=$(cuobjdump -sass build/cuda/libfolio_cuda.so 2>/dev/null | grep -c HGMMA)
summary+=("HGMMA instructions in the library: $hgmma")
# A hung kernel (a barrier protocol bug) must not eat the call: every Python step runs under a timeout, and a
# smoke test goes first.
t0=$SECONDS
if ! timeout 90 python3 -m pytest tests/gpu -q -x -p no:cacheprovider -k "test_prefill_kernels_agree" > "$out/smoke.log" 2>&1; then
    summary+=("SMOKE TEST FAILED or hung ($((SECONDS - t0)) s): $(tail -3 "$out/smoke.log" | tr '\n' ' ')")
    echo "=== summary"; printf '%s\n' "${summary[@]}"; exit 1
fi
t0=$SECONDS
timeout 300 python3 -m pytest tests/gpu -q -rfE -p no:cacheprovider -k "${PYTEST_K:-prefill}" > "$out/pytest.log" 2>&1
summary+=("pytest -k ${PYTEST_K:-prefill}: $(tail -1 "$out/pytest.log") ($((SECONDS - t0)) s)")
grep -E "^FAILED|^ERROR" "$out/pytest.log" | head -12
# Extra test runs under other settings ("VAR=value[,VAR=value]:pytest -k expression", space-separated).
for extra in ${EXTRA_TESTS:-}; do
    setting=${extra%%:*}; expr=${extra#*:}
    t0=$SECONDS
    env ${setting//,/ } timeout 200 python3 -m pytest tests/gpu -q -rfE -p no:cacheprovider -k "$expr" > "$out/pytest-extra.log" 2>&1
    summary+=("pytest $setting -k $expr: $(tail -1 "$out/pytest-extra.log") ($((SECONDS - t0)) s)")
    grep -E "^FAILED|^ERROR" "$out/pytest-extra.log" | head -6
done
if [[ -z "${SKIP_BENCH:-}" ]]; then
    # (Files back from the device are few: logs only.) One benchmark process per setting of BENCH_VARIANTS (space-separated VAR=value; "-" = as built).
    for v in ${BENCH_VARIANTS:--}; do
        t0=$SECONDS
        tag=${v//[^A-Za-z0-9_-]/-}; [[ $v == - ]] && tag=default
        if [[ $v == - ]]; then
            timeout 200 python3 bench/kernels.py --only prefill --iters ${BENCH_ITERS:-120} > "$out/bench-$tag.log" 2>&1
        else
            env "$v" timeout 200 python3 bench/kernels.py --only prefill --iters ${BENCH_ITERS:-120} > "$out/bench-$tag.log" 2>&1
        fi
        summary+=("bench [$v] ($((SECONDS - t0)) s): $(grep -E '^prefill|Error|error' "$out/bench-$tag.log" | tail -2)")
    done
fi
if [[ -n "${NCU:-}" ]]; then
    # Nsight Compute on the second launch of the 8 x 4k prefill (bench/ncu_prefill.py), default build.
    t0=$SECONDS
    timeout 240 ncu --kernel-name regex:paged_prefill_sm90 --launch-skip 1 --launch-count 1 \
        --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
        --section WarpStateStats --section LaunchStats python3 bench/ncu_prefill.py > "$out/ncu.log" 2>&1
    summary+=("ncu ($((SECONDS - t0)) s):")
    summary+=("$(grep -iE "Duration|Throughput|Issue Slots|Executed Ipc A|Warp Cycles Per Issued|Registers Per|Waves|stall|pipe" "$out/ncu.log" | cut -c1-260 | head -40)")
fi
echo "=== summary"
cat "$out/env.txt" | head -2
printf '%s\n' "${summary[@]}"

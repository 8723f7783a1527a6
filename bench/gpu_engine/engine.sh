#!/usr/bin/env bash
# GPU session: build libfolio_cuda.so, run the kernel tests and the engine tests (libfolio.so carried in
# gpu-tmp/libfolio), then the engine benchmark with the carried NativeAOT CLI (gpu-tmp/cli/folio). Logs under $OUT.
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/out}; mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin" PYTHONUNBUFFERED=1
if [[ -n "${BEAM:-}" ]]; then
  ( python3 tests/fixtures/make_hf_beam_fixtures.py tests/fixtures/hf > "$out/beam.log" 2>&1
    tar czf "$out/beam.tgz" tests/fixtures/hf/beam_fixtures.txt tests/fixtures/hf/*/beam_reference.json ) &
fi
t0=$SECONDS
scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/build.log" 2>&1 || { grep -E "error" "$out/build.log" | head -20; tail -5 "$out/build.log"; exit 1; }
echo "build $((SECONDS - t0)) s"
export FOLIO_LIB=$PWD/gpu-tmp/libfolio/libfolio.so FOLIO_CUDA_LIB=$PWD/build/cuda/libfolio_cuda.so FOLIO_CLI=$PWD/gpu-tmp/cli/folio
chmod +x gpu-tmp/cli/folio 2>/dev/null
cp build/cuda/libfolio_cuda.so gpu-tmp/cli/ 2>/dev/null
python3 -m pytest -q -rfE -p no:cacheprovider ${TESTS:-tests/gpu/test_gemm.py tests/gpu/test_paged_attention_window.py tests/gpu/test_graphs.py tests/gpu/test_engine_cuda.py} > "$out/pytest.log" 2>&1
grep -E "^FAILED|^ERROR|Error:|error:" "$out/pytest.log" | head -30
tail -2 "$out/pytest.log"
if [[ -n "${BENCH:-}" ]]; then
  chmod +x gpu-tmp/cli/folio
  eval "$BENCH" 2>&1 | tee "$out/bench.log" | tail -25
fi
wait
exit 0

#!/usr/bin/env bash
# One GPU call for issue 14's figures, part by part (PARTS, in this order; each under its own timeout, logs in $OUT):
#   tests    tests/gpu files in TESTS (default: the engine, parity and model-op tests), with -s for their figures
#   b5       llama-1b 256 x 256/256: three runs at the default budget (8192 on a GPU), one at 2048, one without graphs
#   b7       shared prefix 80 / 341 tokens + 32 own, outputs of B7_OUTPUTS tokens, prefix caching on and off
#   b8b      the llama-8b shape, 256 x 256/256
#   e2e      bench/e2e.py on llama-1b: Folio and HF (dynamic and static cache) in this call
#   sharegpt bench/e2e.py --sharegpt on SHAPE (default llama-1b): 1,000 requests, HF on HF_REQUESTS of them
#            (HF_BATCH and HF_ORDER: comma-separated lists of HF batch sizes and orders, arrival or input, all tried)
#   hfpad    bench/hf_profile.py --padded: where HF's left-padded ShareGPT-like batch spends a decode step
#   kernels  bench/kernels.py --only KERNELS (default blocks,prefill)
#   profile  bench/gpu_engine/profile.sh (ncu kernel times of decode steps)
#   idle     the device's share of a decode step at batch 1, 8, 32, 64, 256 (llama-1b, 256/256; graphs on)
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/out}; mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin" PYTHONUNBUFFERED=1
t0=$SECONDS
scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/build.log" 2>&1 || { grep -E "error" "$out/build.log" | head -20; exit 1; }
echo "build $((SECONDS - t0)) s; $(nvidia-smi --query-gpu=name --format=csv,noheader)"
export FOLIO_LIB=$PWD/gpu-tmp/libfolio/libfolio.so FOLIO_CUDA_LIB=$PWD/build/cuda/libfolio_cuda.so FOLIO_CLI=$PWD/gpu-tmp/cli/folio
cp build/cuda/libfolio_cuda.so gpu-tmp/cli/; chmod +x gpu-tmp/cli/folio
F=gpu-tmp/cli/folio
B="--device cuda --requests 256 --max-num-seqs 256 --kv-mib 0 --seed 1 --json"
json() { tail -1 | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(' '.join(f'{k}={d[k]}' for k in sys.argv[1:]))" "$@"; }
for part in ${PARTS:-tests b5 b7 b8b e2e}; do
  echo "### $part (t=$((SECONDS - t0)) s)"
  case $part in
    tests) timeout ${TESTS_TIMEOUT:-240} python3 -m pytest -q -s -rfE -p no:cacheprovider ${TESTS:-tests/gpu/test_model_ops.py tests/gpu/test_rope_kv_write.py tests/gpu/test_engine_cuda.py tests/gpu/test_hf_parity_shapes.py} > "$out/pytest.log" 2>&1
           grep -E "^FAILED|^ERROR|worst|compared|passed|failed" "$out/pytest.log" | tail -20 ;;
    b5) for extra in "" "" "" "--max-num-batched-tokens 2048" "--no-cuda-graphs"; do
          echo -n "llama-1b $extra: "; timeout 120 $F bench --model llama-1b --input-len 256 --output-len 256 $B $extra 2>/dev/null \
            | tee -a "$out/b5.jsonl" | json output_tokens_per_s decode_tokens_per_s prefill_tokens_per_s decode_gpu_busy_pct graphed_steps load_seconds kv_blocks activation_peak_mib activation_held_mib decode_workspace_mib device_used_mib_after device_total_mib
        done ;;
    b7) for outlen in ${B7_OUTPUTS:-32 128}; do for prefix in 80 341; do for caching in on off; do
          extra=""; [[ $caching == off ]] && extra="--no-prefix-caching"
          echo -n "B7 prefix $prefix output $outlen caching $caching: "; timeout 120 $F bench --model llama-1b --input-len 32 --output-len $outlen $B \
            --shared-prefix $prefix $extra ${B7_EXTRA:-} 2>/dev/null | tee -a "$out/b7.jsonl" | json requests_per_s output_tokens_per_s prefix_hit_rate
        done; done; done ;;
    b8b) echo -n "llama-8b: "; timeout 300 $F bench --model llama-8b --input-len 256 --output-len 256 $B ${B8_EXTRA:-} 2>/dev/null \
           | tee -a "$out/b8b.jsonl" | json output_tokens_per_s decode_tokens_per_s prefill_tokens_per_s decode_gpu_busy_pct load_seconds ;;
    e2e) timeout ${E2E_TIMEOUT:-400} python3 bench/e2e.py --folio $F --shape llama-1b --requests 256 --input-len 256 --output-len 256 \
           --caches ${CACHES:-dynamic,static} > "$out/e2e.log" 2>&1; tail -12 "$out/e2e.log" ;;
    idle) for n in 1 8 32 64 256; do
            echo -n "batch $n: "; timeout 120 $F bench --model llama-1b --input-len 256 --output-len 256 --device cuda --requests $n \
              --max-num-seqs $n --kv-mib 0 --seed 1 --json 2>/dev/null | tee -a "$out/idle.jsonl" | json output_tokens_per_s decode_tokens_per_s decode_gpu_busy_pct
          done ;;
    sharegpt) timeout ${SHAREGPT_TIMEOUT:-500} python3 bench/e2e.py --folio $F --shape ${SHAPE:-llama-1b} --requests 1000 --sharegpt \
                --caches ${CACHES:-dynamic} --hf-requests ${HF_REQUESTS:-256} --hf-batch ${HF_BATCH:-256} --hf-order ${HF_ORDER:-arrival} \
                > "$out/sharegpt-${SHAPE:-llama-1b}.log" 2>&1; tail -12 "$out/sharegpt-${SHAPE:-llama-1b}.log" ;;
    hfpad) timeout 200 python3 bench/hf_profile.py --padded --new ${NEW:-16} > "$out/hfpad.log" 2>&1; grep -E "padded|ms per|profiled" "$out/hfpad.log" ;;
    kernels) timeout 200 python3 bench/kernels.py --only ${KERNELS:-blocks,prefill} --iters 4 > "$out/kernels.log" 2>&1; tail -30 "$out/kernels.log" ;;
    profile) timeout 200 bench/gpu_engine/profile.sh 2>&1 | tail -25 ;;
  esac
done
echo "done at t=$((SECONDS - t0)) s"

#!/usr/bin/env bash
# Kernel times of llama-1b decode steps at batch 256 under Nsight Compute (eager steps: ncu times each launch
# alone), summarised by bench/ncu_summary.py. SKIP launches (prefill and warm-up) are passed over, COUNT profiled.
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/out}; mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin"
[[ -f build/cuda/libfolio_cuda.so ]] || scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/build.log" 2>&1
cp build/cuda/libfolio_cuda.so gpu-tmp/cli/; chmod +x gpu-tmp/cli/folio
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
timeout 400 "$NCU" --clock-control none --metrics gpu__time_duration.sum --csv --launch-skip ${SKIP:-6000} \
  --launch-count ${COUNT:-900} gpu-tmp/cli/folio bench --model ${MODEL:-llama-1b} --device cuda --requests 256 \
  --input-len 256 --output-len ${OUTLEN:-40} --max-num-seqs 256 --kv-mib 0 --seed 1 --no-cuda-graphs > "$out/ncu.csv" 2> "$out/ncu.err"
echo "ncu rc $?"; tail -3 "$out/ncu.err"
python3 bench/ncu_summary.py "$out/ncu.csv" | head -16

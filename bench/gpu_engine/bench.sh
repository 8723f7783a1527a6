#!/usr/bin/env bash
# GPU bench session: B5 (Folio vs HF), CUDA graphs on/off. Logs under $OUT.
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/out}; mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin" PYTHONUNBUFFERED=1
scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/build.log" 2>&1 || { grep error "$out/build.log" | head; exit 1; }
cp build/cuda/libfolio_cuda.so gpu-tmp/cli/; chmod +x gpu-tmp/cli/folio
F=gpu-tmp/cli/folio
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
run() { echo "### $*"; timeout 300 "$@" 2>&1 | grep -vE "^\s*$" | tail -14; }
run $F bench --model llama-1b --device cuda --input-len 256 --output-len 256 --requests 256 --max-num-seqs 256 --kv-mib 0 --seed 1
run $F bench --model llama-1b --device cuda --input-len 256 --output-len 256 --requests 256 --max-num-seqs 256 --kv-mib 0 --seed 1 --no-cuda-graphs
timeout 500 python3 bench/e2e.py --folio $F --shape llama-1b --requests 256 --input-len 256 --output-len 256 2>&1 | tail -8
# Start-up is startup.sh's.

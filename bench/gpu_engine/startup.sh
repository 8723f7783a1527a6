#!/usr/bin/env bash
cd "$(dirname "$0")/../.."
F=gpu-tmp/cli/folio
scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 > /dev/null 2>&1
cp build/cuda/libfolio_cuda.so gpu-tmp/cli/; chmod +x $F
nvidia-smi --query-gpu=name --format=csv,noheader
t=$(date +%s%N); $F model init --shape llama-1b --out /tmp/llama-1b > /dev/null 2>&1; echo "model init: $(( ($(date +%s%N) - t) / 1000000 )) ms"
cat /tmp/llama-1b/*.safetensors > /dev/null
for g in "" "--no-cuda-graphs"; do for i in 1 2; do
  t=$(date +%s%N)
  out=$($F bench --model /tmp/llama-1b --device cuda --requests 1 --input-len 8 --output-len 1 --kv-mib 0 $g 2>&1)
  e=$(( ($(date +%s%N) - t) / 1000000 ))
  echo "graphs ${g:-on}: process start to exit after one token: $e ms; $(echo "$out" | grep -E 'model load|KV util|CUDA graphs' | tr '\n' ';')"
done; done

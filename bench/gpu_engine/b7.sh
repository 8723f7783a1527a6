#!/usr/bin/env bash
# B7 (shared prefix, caching on/off) and the llama-8b shape, with the carried CLI. Logs under $OUT.
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/out}; mkdir -p "$out"
export PATH="$PATH:/usr/local/cuda/bin"
[[ -f build/cuda/libfolio_cuda.so ]] || scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/build.log" 2>&1
cp build/cuda/libfolio_cuda.so gpu-tmp/cli/; chmod +x gpu-tmp/cli/folio
F=gpu-tmp/cli/folio
nvidia-smi --query-gpu=name --format=csv,noheader
for prefix in 80 341; do
  for caching in on off; do
    extra=""; [[ $caching == off ]] && extra="--no-prefix-caching"
    r=$(timeout 200 $F bench --model llama-1b --device cuda --requests 256 --input-len 32 --output-len 128 --max-num-seqs 256 \
        --kv-mib 0 --seed 1 --shared-prefix $prefix $extra --json 2>/dev/null | tail -1)
    echo "B7 prefix $prefix caching $caching: $r" | tee -a "$out/b7.log" | cut -c1-260
  done
done
echo "### llama-8b"
timeout 420 $F bench --model llama-8b --device cuda --input-len 256 --output-len 256 --requests 256 --max-num-seqs 256 --kv-mib 0 --seed 1 2>&1 | grep -vE "^\s*$" | tail -14

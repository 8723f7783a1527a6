#!/usr/bin/env bash
# qwen3_vs_llamacpp.sh [CHUNKS]: Folio's Qwen3 against llama.cpp's own, on one random-weight Qwen3 model
# (bench/make_qwen3_folder.py: head_dim 128, q/k norms) converted to GGUF F32 by bench/hf_to_gguf_f32.py (as
# convert_hf_to_gguf.py's Qwen3Model does it). llama-perplexity (fp32 KV cache) stores its log-probabilities of CHUNKS
# (default 8) chunks of 128 tokens; Folio computes the same positions from the GGUF file and from the folder; the table's
# last column is KL(llama.cpp ‖ Folio). Needs what bench/cpu_vs_llamacpp.sh leaves in $FOLIO_LLAMACPP_WORK (the llama.cpp
# build and its gguf-py). Not part of ./test.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chunks="${1:-8}"
work="${FOLIO_LLAMACPP_WORK:-/tmp/folio-vs-llamacpp}"
bin="$work/llama.cpp/build/bin"
out="${QWEN3_OUT:-/tmp/folio-qwen3}"; rm -rf "$out"; mkdir -p "$out/gguf" "$out/folder-run"
[[ -x "$bin/llama-perplexity" ]] || { echo "no $bin/llama-perplexity: run bench/cpu_vs_llamacpp.sh first" >&2; exit 1; }
if [[ -n "${FOLIO_DLL:-}" ]]; then folio=(dotnet "$FOLIO_DLL"); else folio=("$root/folio"); fi
/usr/bin/python3 "$root/bench/make_qwen3_folder.py" "$out/folder"
PYTHONPATH="$work/llama.cpp/gguf-py" /usr/bin/python3 "$root/bench/hf_to_gguf_f32.py" "$out/folder" "$out/qwen3-F32.gguf"
cat "$root/README.md" "$root/docs/ENGINE.md" >"$out/text.txt"
"$bin/llama-perplexity" -m "$out/qwen3-F32.gguf" -f "$out/text.txt" -c 128 --chunks "$chunks" -t 2 -ctk f32 -ctv f32 \
    --kl-divergence-base "$out/base.kld" >"$out/base.log" 2>&1
/usr/bin/python3 "$root/bench/kld_compare.py" tokens "$out/base.kld" "$out/tokens.json"
for run in gguf folder-run; do
    cp "$out/base.kld" "$out/tokens.json" "$out/$run/"
    model="$out/qwen3-F32.gguf"; [[ $run == folder-run ]] && model="$out/folder"
    "${folio[@]}" logits --model "$model" --tokens "$out/tokens.json" --out "$out/$run/folio-F32.bin" >/dev/null
    echo "Folio on the ${run%-run}:"; /usr/bin/python3 "$root/bench/kld_compare.py" table "$out/$run" | tail -1
done
grep "Final estimate" "$out/base.log"

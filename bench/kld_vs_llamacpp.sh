#!/usr/bin/env bash
# kld_vs_llamacpp.sh [CHUNKS]: KL divergence of each quantized b8 GGUF against its F32 file, by llama.cpp's
# `llama-perplexity --kl-divergence` and by Folio on the very same tokens and positions (issue 16's correctness
# criterion: Folio's top-1 agreement and KL divergence with llama.cpp's own figures for the same file beside them).
#
# Needs what bench/cpu_vs_llamacpp.sh leaves in $FOLIO_LLAMACPP_WORK (default /tmp/folio-vs-llamacpp): the llama.cpp
# checkout and the b8 GGUF files (run that script once first). Builds llama-perplexity there if missing.
# llama-perplexity tokenizes the file $TEXT (default: README.md and docs/ENGINE.md) with the file's vocabulary, evaluates
# CHUNKS (default 8) chunks of 128 tokens (the first token of each replaced by BOS) and scores the logits of positions
# 64..126 of each chunk; it stores the tokens in its base file, which bench/kld_compare.py reads back and gives to
# `folio logits`, so both engines are scored on identical inputs.
# QUANTS (default "F16 Q8_0 Q4_0 Q4_K_M") picks the files scored against F32; a type without its b8 file is made
# from b8-F32.gguf by llama-quantize (e.g. QUANTS="Q4_1 Q5_0 Q5_1 Q5_K_M Q3_K_M Q2_K IQ4_NL IQ4_XS", types whose
# blocks Folio reads as fp32).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chunks="${1:-8}"
work="${FOLIO_LLAMACPP_WORK:-/tmp/folio-vs-llamacpp}"
bin="$work/llama.cpp/build/bin"; models="$work/models"
out="${KLD_OUT:-/tmp/folio-kld}"; mkdir -p "$out"
[[ -f "$models/b8-F32.gguf" ]] || { echo "no $models/b8-F32.gguf: run bench/cpu_vs_llamacpp.sh first" >&2; exit 1; }
[[ -x "$bin/llama-perplexity" ]] || cmake --build "$work/llama.cpp/build" -j"$(nproc)" --target llama-perplexity >"$out/build.log" 2>&1
if [[ -n "${FOLIO_DLL:-}" ]]; then folio=(dotnet "$FOLIO_DLL"); else folio=("$root/folio"); fi
if [[ -n "${TEXT:-}" ]]; then cat "$TEXT"; else cat "$root/README.md" "$root/docs/ENGINE.md"; fi >"$out/text.txt"
"$bin/llama-perplexity" -m "$models/b8-F32.gguf" -f "$out/text.txt" -c 128 --chunks "$chunks" -t 2 \
    --kl-divergence-base "$out/base.kld" >"$out/base.log" 2>&1
/usr/bin/python3 "$root/bench/kld_compare.py" tokens "$out/base.kld" "$out/tokens.json"
read -r -a quants <<<"${QUANTS:-F16 Q8_0 Q4_0 Q4_K_M}"
for q in F32 "${quants[@]}"; do
    [[ -f "$models/b8-$q.gguf" ]] || "$bin/llama-quantize" "$models/b8-F32.gguf" "$models/b8-$q.gguf" "$q" >"$out/quantize-$q.log" 2>&1
    [[ $q == F32 ]] || "$bin/llama-perplexity" -m "$models/b8-$q.gguf" -c 128 --chunks "$chunks" -t 2 \
        --kl-divergence-base "$out/base.kld" --kl-divergence >"$out/llama-$q.log" 2>&1
    "${folio[@]}" logits --model "$models/b8-$q.gguf" --tokens "$out/tokens.json" --out "$out/folio-$q.bin" >/dev/null
done
/usr/bin/python3 "$root/bench/kld_compare.py" table "$out"

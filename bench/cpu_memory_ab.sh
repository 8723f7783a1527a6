#!/usr/bin/env bash
# Peak resident memory and decode speed of two folio builds on the same model folders, alternately, order rotated
# per round (issue 16's memory criterion; see bench/RESULTS.md "CPU weights in place"). Not part of ./test.sh.
#   bench/cpu_memory_ab.sh OLD_DLL NEW_DLL ROUNDS "QUANT:MODEL_DIR:INPUT_LEN:OUTPUT_LEN[:REQUESTS]" ...
# e.g. bench/cpu_memory_ab.sh old/folio.dll new/folio.dll 2 none:/m/llama-1b-bf16:8:4 int4:/m/llama-1b-bf16:8:4
# REQUESTS (default 1) run at once (max-num-seqs = REQUESTS). Prints one line per run: build, quantization, model,
# max RSS (KiB, /usr/bin/time -v), decode tok/s (pure decode steps), prompt tok/s, output tok/s, load s.
set -euo pipefail
old=$1 new=$2 rounds=$3
shift 3
run() {   # dll quant dir in out requests label
    local log
    log=$(mktemp)
    /usr/bin/time -v dotnet "$1" bench --model "$3" --requests "$6" --max-num-seqs "$6" --input-len "$4" --output-len "$5" \
        --kv-mib 256 --threads 2 --json --quantization "$2" >"$log" 2>&1
    local rss
    rss=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
    field() { grep -o "\"$1\": [0-9.]*" "$log" | awk '{print $2}'; }
    echo "$7 quant=$2 model=$(basename "$3") requests=$6 max_rss_kib=$rss decode_tok_s=$(field decode_tokens_per_s)" \
        "prompt_tok_s=$(field prefill_tokens_per_s) output_tok_s=$(field output_tokens_per_s) load_s=$(field load_seconds)" \
        "load_avg=$(cut -d' ' -f1 /proc/loadavg)"
    rm -f "$log"
}
for ((r = 0; r < rounds; r++)); do
    for spec in "$@"; do
        IFS=: read -r quant dir in out requests <<<"$spec"
        requests=${requests:-1}
        if ((r % 2 == 0)); then
            run "$old" "$quant" "$dir" "$in" "$out" "$requests" old; run "$new" "$quant" "$dir" "$in" "$out" "$requests" new
        else
            run "$new" "$quant" "$dir" "$in" "$out" "$requests" new; run "$old" "$quant" "$dir" "$in" "$out" "$requests" old
        fi
    done
done

#!/usr/bin/env bash
# Peak resident memory and decode speed of two folio builds on the same model folders, alternately, order rotated
# per round (issue 16's memory criterion; see bench/RESULTS.md "CPU weights in place"). Not part of ./test.sh.
#   bench/cpu_memory_ab.sh OLD_DLL NEW_DLL ROUNDS "QUANT:MODEL_DIR:INPUT_LEN:OUTPUT_LEN" ...
# e.g. bench/cpu_memory_ab.sh old/folio.dll new/folio.dll 2 none:/m/llama-1b-bf16:8:4 int4:/m/llama-1b-bf16:8:4
# Prints one line per run: build, quantization, model, max RSS (KiB, /usr/bin/time -v), decode tok/s, load s.
set -euo pipefail
old=$1 new=$2 rounds=$3
shift 3
run() {   # dll quant dir in out
    local log
    log=$(mktemp)
    /usr/bin/time -v dotnet "$1" bench --model "$3" --requests 1 --max-num-seqs 1 --input-len "$4" --output-len "$5" \
        --kv-mib 64 --threads 2 --json --quantization "$2" >"$log" 2>&1
    local rss decode load
    rss=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
    decode=$(grep -o '"decode_tokens_per_s": [0-9.]*' "$log" | awk '{print $2}')
    load=$(grep -o '"load_seconds": [0-9.]*' "$log" | awk '{print $2}')
    rm -f "$log"
    echo "$6 quant=$2 model=$(basename "$3") max_rss_kib=$rss decode_tok_s=$decode load_s=$load load_avg=$(cut -d' ' -f1 /proc/loadavg)"
}
for ((r = 0; r < rounds; r++)); do
    for spec in "$@"; do
        IFS=: read -r quant dir in out <<<"$spec"
        if ((r % 2 == 0)); then
            run "$old" "$quant" "$dir" "$in" "$out" old; run "$new" "$quant" "$dir" "$in" "$out" new
        else
            run "$new" "$quant" "$dir" "$in" "$out" new; run "$old" "$quant" "$dir" "$in" "$out" old
        fi
    done
done

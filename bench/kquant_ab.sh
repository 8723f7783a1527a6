#!/bin/bash
# Issue 16, GGUF k-quant A/B: two JIT-built CLIs (old, new) on b8 GGUF files (Q4_K_M, and Q4_0 whose output layer
# llama-quantize writes as Q6_K), 1 request (--output-len 64: batch-1 decode and pp128) and 32 requests
# (--output-len 32: 32 sequences' decode tok/s), alternated within each round, the order flipped every round, at
# nice -20. One JSON object per run on stdout with round, cli, file, requests, the 1-minute load average at the
# start, the process's user + system CPU seconds and its peak RSS (GNU time). Summarise with bench/kquant_ab_summary.py.
#   bench/kquant_ab.sh ROUNDS OLD_CLI_DIR NEW_CLI_DIR GGUF... > runs.jsonl
set -euo pipefail
rounds=$1 old=$2 new=$3; shift 3
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then clis=("$old" "$new"); else clis=("$new" "$old"); fi
  for model in "$@"; do
    for reqs in 1 32; do
      out=$(( reqs == 32 ? 32 : 64 ))
      for cli in "${clis[@]}"; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        json=$(nice -n -20 /usr/bin/time -f '%U %S %M' -o "$timing" dotnet "$cli/folio.dll" bench --model "$model" \
          --threads 2 --input-len 128 --requests "$reqs" --output-len "$out" --json)
        read -r user sys rss < "$timing"
        echo "{\"round\": $r, \"cli\": \"$cli\", \"file\": \"$(basename "$model")\", \"requests\": $reqs, \"load1\": $load, \"cpu_s\": $(echo "$user + $sys" | bc), \"max_rss_kb\": $rss, \"run\": $json}"
      done
    done
  done
done

#!/bin/bash
# Issue 16: several Folio configurations ("arms") measured alternately, with the commands bench/cpu_vs_llamacpp.sh
# runs for Folio: `folio bench --model M --threads 2 --input-len 128 --requests 1 --output-len 64 --kv-mib 256`
# (batch-1 decode, pp128) and `--requests 32 --output-len 32 --kv-mib 512` (32 sequences), each arm's extra flags
# after. Each round runs every arm once per request count, the arm order rotated by one every round, at nice -20.
# One JSON object per run on stdout (round, arm, requests, 1-minute load at the start, user + system CPU seconds,
# peak RSS KiB from GNU time, the bench's JSON). Summarise with bench/arms_ab_summary.py.
# An arm whose CLI_DIR is `llama.cpp` runs that bundle's binaries (LLAMA_BIN, default
# /tmp/folio-vs-llamacpp/llama.cpp/build/bin) on MODEL (a GGUF) as bench/cpu_vs_llamacpp.sh does: `llama-bench -t 2
# -p 128 -n 64 -r 1` for requests 1 (pp128, tg64) and `llama-batched-bench -t 2 -c 8192 -b 2048 -ub 512 -npp 128
# -ntg 32 -npl 32` for 32 (S_PP, S_TG), reported in the bench's JSON keys.
#   bench/arms_ab.sh ROUNDS 'LABEL|CLI_DIR|MODEL|EXTRA FLAGS' ... > runs.jsonl
set -euo pipefail
rounds=$1; shift
arms=("$@")
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
for r in $(seq 1 "$rounds"); do
  n=${#arms[@]}
  for reqs in 1 32; do
    if (( reqs == 1 )); then extra=(--output-len 64 --kv-mib 256); else extra=(--output-len 32 --kv-mib 512); fi
    for i in $(seq 0 $((n - 1))); do
      IFS='|' read -r label cli model flags <<<"${arms[$(( (i + r) % n ))]}"
      load=$(cut -d' ' -f1 /proc/loadavg)
      bin=${LLAMA_BIN:-/tmp/folio-vs-llamacpp/llama.cpp/build/bin}
      if [[ "$cli" == llama.cpp && $reqs == 1 ]]; then
        json=$(nice -n -20 /usr/bin/time -f '%U %S %M' -o "$timing" "$bin/llama-bench" -m "$model" -t 2 -p 128 -n 64 -r 1 -o jsonl 2>/dev/null \
          | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin if l.startswith("{")]; print(json.dumps({"prefill_tokens_per_s": [x["avg_ts"] for x in r if x["n_prompt"] > 0][0], "decode_tokens_per_s": [x["avg_ts"] for x in r if x["n_gen"] > 0][0]}))')
      elif [[ "$cli" == llama.cpp ]]; then
        json=$(nice -n -20 /usr/bin/time -f '%U %S %M' -o "$timing" "$bin/llama-batched-bench" -m "$model" -t 2 -c 8192 -b 2048 -ub 512 -npp 128 -ntg 32 -npl 32 \
          --output-format jsonl 2>/dev/null | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin if l.startswith("{")][0]; print(json.dumps({"prefill_tokens_per_s": r["speed_pp"], "decode_tokens_per_s": r["speed_tg"]}))')
      else
        # shellcheck disable=SC2086  # flags are words
        json=$(nice -n -20 /usr/bin/time -f '%U %S %M' -o "$timing" dotnet "$cli/folio.dll" bench --model "$model" \
          --threads 2 --input-len 128 --requests "$reqs" "${extra[@]}" $flags --json)
      fi
      read -r user sys rss < "$timing"
      echo "{\"round\": $r, \"arm\": \"$label\", \"requests\": $reqs, \"load1\": $load, \"cpu_s\": $(echo "$user + $sys" | bc | sed "s/^\./0./"), \"max_rss_kb\": $rss, \"run\": $json}"
    done
  done
done

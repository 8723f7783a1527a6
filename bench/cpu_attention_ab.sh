#!/bin/bash
# Issue 16, CPU paged attention A/B at long context, where attention rather than the GEMMs takes most of a step:
# two JIT-built CLIs (old, new) on the b8 folder with int8 weights, 4 requests of 1,024 prompt tokens and 32 output
# tokens, alternated within each round, the order flipped every round, at nice -20. One JSON object per run on stdout
# with round, cli, the 1-minute load average at the run's start and the process's user + system CPU seconds.
#   bench/cpu_attention_ab.sh ROUNDS OLD_CLI_DIR NEW_CLI_DIR B8_MODEL > runs.jsonl
set -euo pipefail
rounds=$1 old=$2 new=$3 model=$4
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then clis=("$old" "$new"); else clis=("$new" "$old"); fi
  for cli in "${clis[@]}"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    json=$(nice -n -20 /usr/bin/time -f '%U %S' -o "$timing" dotnet "$cli/folio.dll" bench --model "$model" --quantization int8 \
      --threads 2 --input-len 1024 --requests 4 --output-len 32 --json)
    echo "{\"round\": $r, \"cli\": \"$cli\", \"load1\": $load, \"cpu_s\": $(awk '{print $1 + $2}' "$timing"), \"run\": $json}"
  done
done

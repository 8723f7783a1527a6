#!/bin/bash
# Issue 16, CPU GEMM A/B: two JIT-built CLIs (old, new) on the b8 model in fp32, bf16 (a bf16 folder: mapped in
# place), int8 and int4, at 32 requests (--output-len 32: decode and prefill tok/s) and 1 request (--output-len 64),
# alternated within each round, the order flipped every round, at nice -20. One JSON object per run on stdout, with
# round, cli, precision, requests, the 1-minute load average at the start of the run and the process's user + system
# CPU seconds (GNU time; a crowded machine inflates wall time far more than CPU time) added. Summarise with
# bench/cpu_gemm_ab_summary.py.
#   [PRECISIONS="fp32 bf16"] bench/cpu_gemm_ab.sh ROUNDS OLD_CLI_DIR NEW_CLI_DIR FP32_MODEL BF16_MODEL > runs.jsonl
# (PRECISIONS: the subset to run, default all four.)
set -euo pipefail
rounds=$1 old=$2 new=$3 fp32=$4 bf16=$5
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then clis=("$old" "$new"); else clis=("$new" "$old"); fi
  for precision in ${PRECISIONS:-fp32 bf16 int8 int4}; do
    model=$fp32; args=()
    case $precision in
      bf16) model=$bf16 ;;
      int8|int4) args=(--quantization "$precision") ;;
    esac
    for reqs in 32 1; do
      out=$(( reqs == 32 ? 32 : 64 ))
      for cli in "${clis[@]}"; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        json=$(nice -n -20 /usr/bin/time -f '%U %S' -o "$timing" dotnet "$cli/folio.dll" bench --model "$model" "${args[@]}" \
          --threads 2 --input-len 128 --requests "$reqs" --output-len "$out" --json)
        cpu=$(awk '{print $1 + $2}' "$timing")
        echo "{\"round\": $r, \"cli\": \"$cli\", \"precision_arg\": \"$precision\", \"requests\": $reqs, \"load1\": $load, \"cpu_s\": $cpu, \"run\": $json}"
      done
    done
  done
done

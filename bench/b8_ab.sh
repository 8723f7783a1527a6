#!/bin/bash
# CPU model decode (B8 `b8`) for several JIT-built CLIs, alternated within each round, the order rotated every
# round, at nice -20: "decode tokens/s (pure decode steps)" at batch 1 and 32. One line per run: round, CLI,
# requests, decode tok/s, 1-minute load average at the start of the run.
#   bench/b8_ab.sh ROUNDS CLI_DIR... > runs.txt
set -euo pipefail
rounds=$1; shift
clis=("$@")
for r in $(seq 1 "$rounds"); do
  k=$(( (r - 1) % ${#clis[@]} ))
  ordered=("${clis[@]:$k}" "${clis[@]:0:$k}")
  for reqs in 1 32; do
    for cli in "${ordered[@]}"; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      tps=$(nice -n -20 dotnet "$cli/folio.dll" bench --model b8 --threads 2 --input-len 128 --requests "$reqs" |
        awk '/^decode tokens\/s/ {print $3}')
      echo "$r $cli $reqs $tps $load"
    done
  done
done

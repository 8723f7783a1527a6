#!/bin/bash
# Benchmark B4 A/B: `folio bench --executor fake` for several JIT-built CLIs, alternated within each round, the
# order rotated every round, at nice -20 (root). One line per run: round, CLI, configuration, us_per_step_p50,
# schedule / execute / postprocess µs per step (means), bytes allocated in Step() per steady step, steady steps,
# 1-minute load average at the start of the run.
#   bench/b4_ab.sh ROUNDS CLI_DIR... > runs.txt ; python3 bench/b4_summary.py runs.txt [BASE_CLI_DIR]
# A CLI_DIR is `dotnet build managed/Folio.Cli -c Release -o DIR` of the commit under test.
set -euo pipefail
rounds=$1; shift
clis=("$@")
for r in $(seq 1 "$rounds"); do
  k=$(( (r - 1) % ${#clis[@]} ))
  ordered=("${clis[@]:$k}" "${clis[@]:0:$k}")
  for cfg in 256 1024 256p 1024p; do
    n=${cfg%p}; extra=()
    [ "$cfg" != "$n" ] && extra=(--prompt-len 512 --output-len 1000 --requests $((3 * n)))
    for cli in "${ordered[@]}"; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      nice -n -20 dotnet "$cli/folio.dll" bench --executor fake --max-num-seqs "$n" "${extra[@]}" --json |
        python3 -c "import json,sys; d=json.load(sys.stdin); print('$r', '$cli', '$cfg', round(d['us_per_step_p50'],2), round(d['schedule_us_per_step'],1), round(d['execute_us_per_step'],1), round(d['postprocess_us_per_step'],1), d['step_alloc_bytes_per_step'], d['steady_steps'], '$load')"
    done
  done
done

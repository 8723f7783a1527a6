#!/usr/bin/env bash
# cpu_step_ab.sh ROUNDS THREADS QUANT MODEL PHASES OLD_BENCH_DIR NEW_BENCH_DIR OUTDIR: `Folio.Benchmarks cpu-step` of two
# builds alternately (old first in odd rounds, new first in even ones), one output file per run (OUTDIR/ROUND-old.txt,
# OUTDIR/ROUND-new.txt). Summarise with bench/cpu_step_ab_summary.py OUTDIR: per phase, process CPU ms per step (what a
# crowded machine inflates least) and the per-round new/old ratios.
set -euo pipefail
rounds=$1 threads=$2 quant=$3 model=$4 phases=$5 old=$6 new=$7 out=$8
mkdir -p "$out"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(old new); else order=(new old); fi
  for b in "${order[@]}"; do
    dir=$old; [[ $b == new ]] && dir=$new
    dotnet "$dir/Folio.Benchmarks.dll" cpu-step "$model" "$threads" "$quant" 2 "$phases" >"$out/$r-$b.txt" 2>&1
  done
done

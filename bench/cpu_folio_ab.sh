#!/usr/bin/env bash
# cpu_folio_ab.sh ROUNDS QUANT MODEL OLD_CLI_DIR NEW_CLI_DIR OUT.tsv: the Folio commands of bench/cpu_vs_llamacpp.sh
# (one request, --output-len 64: pp128 and batch-1 decode; 32 requests, --output-len 32: the 32-sequence decode) for two
# builds alternately, old first in odd rounds, new first in even ones; per run the tok/s, the 1-minute load at its start
# and the process's user + system CPU seconds (GNU time). Then a summary: per metric, medians, ranges and the per-round
# new/old ratios.
set -euo pipefail
rounds=$1 quant=$2 model=$3 old=$4 new=$5 out=$6
timing=$(mktemp)
trap 'rm -f "$timing" "$timing.32"' EXIT
jf() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }
printf 'round\tbuild\tpp128\tbatch1\tbatch32\tload\ttime\tcpu1\tcpu32\n' >"$out"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(old new); else order=(new old); fi
  for b in "${order[@]}"; do
    dir=$old; [[ $b == new ]] && dir=$new
    load=$(cut -d' ' -f1 /proc/loadavg); t=$(date -u +%H:%M:%S)
    common=(bench --model "$model" --threads 2 --input-len 128 --json --quantization "$quant")
    one=$(/usr/bin/time -f '%U %S' -o "$timing" dotnet "$dir/folio.dll" "${common[@]}" --requests 1 --output-len 64 --kv-mib 256)
    many=$(/usr/bin/time -f '%U %S' -o "$timing.32" dotnet "$dir/folio.dll" "${common[@]}" --requests 32 --output-len 32 --kv-mib 512)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$b" "$(jf prefill_tokens_per_s <<<"$one")" "$(jf decode_tokens_per_s <<<"$one")" \
      "$(jf decode_tokens_per_s <<<"$many")" "$load" "$t" "$(awk '{print $1 + $2}' "$timing")" "$(awk '{print $1 + $2}' "$timing.32")" >>"$out"
  done
done
python3 - "$out" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = {}
for r in rows:
    by.setdefault(r[0], {})[r[1]] = r
for name, i in (("pp128 tok/s", 2), ("batch-1 decode tok/s", 3), ("32-sequence decode tok/s", 4), ("CPU s, 1 request", 7), ("CPU s, 32 requests", 8)):
    old = [float(v["old"][i]) for v in by.values() if "old" in v]
    new = [float(v["new"][i]) for v in by.values() if "new" in v]
    ratio = [float(v["new"][i]) / float(v["old"][i]) for v in by.values() if len(v) == 2]
    print(f"{name}: old {st.median(old):.1f} ({min(old):.1f}-{max(old):.1f}), new {st.median(new):.1f} ({min(new):.1f}-{max(new):.1f}); "
          f"new/old per round {st.median(ratio):.3f} ({min(ratio):.3f}-{max(ratio):.3f}), rounds {len(ratio)}")
loads = [float(r[5]) for r in rows]
print(f"load {min(loads)}-{max(loads)}, {rows[0][6]}-{rows[-1][6]} UTC")
PY

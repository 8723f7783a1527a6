#!/usr/bin/env bash
# server_overhead_ab.sh REV [ROUNDS [BENCH ARGS...]]: benchmark B10 (`folio bench --server --rounds 1 ARGS...`) of commit
# REV against the working tree, alternately, ROUNDS times each (default 3), the order rotating (old first in odd
# rounds, new first in even ones), with the load average before each run: on a shared machine only alternating runs
# compare. RUN_ROUNDS=N gives each run N rounds (the open-loop phase alternates its order by round). Builds both CLIs
# under $TMPDIR (or /tmp). Example: `RUN_ROUNDS=2 bench/server_overhead_ab.sh main 3 --rate 312.5`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev=${1:?usage: server_overhead_ab.sh REV [ROUNDS]}
rounds=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
extra=("$@")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/folio-ab.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
git -C "$root" archive "$rev" | tar -x -C "$tmp/src"
dotnet build "$tmp/src/managed/Folio.Cli" -c Release -o "$tmp/old" -nologo >"$tmp/old.log" 2>&1 || { cat "$tmp/old.log"; exit 1; }
dotnet build "$root/managed/Folio.Cli" -c Release -o "$tmp/new" -nologo >"$tmp/new.log" 2>&1 || { cat "$tmp/new.log"; exit 1; }
for round in $(seq 1 "$rounds"); do
    order=(old new); (( round % 2 == 0 )) && order=(new old)
    for v in "${order[@]}"; do
        echo "=== $v ($([[ $v == old ]] && echo "$rev" || echo "working tree")) round $round, load: $(cut -d' ' -f1-3 /proc/loadavg)"
        dotnet "$tmp/$v/folio.dll" bench --server --rounds "${RUN_ROUNDS:-1}" "${extra[@]}" 2>&1 | grep -E '^  (engine|http|paced)|idle|after'
    done
done

#!/usr/bin/env bash
# server_overhead_ab.sh REV [ROUNDS]: benchmark B10 (`folio bench --server --rounds 1`) of commit REV against the
# working tree, alternately (old, new, old, new, ...), ROUNDS times each (default 3), with the load average before
# each run: on a shared machine only alternating runs compare. Builds both CLIs under $TMPDIR (or /tmp).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev=${1:?usage: server_overhead_ab.sh REV [ROUNDS]}
rounds=${2:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/folio-ab.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
git -C "$root" archive "$rev" | tar -x -C "$tmp/src"
dotnet build "$tmp/src/managed/Folio.Cli" -c Release -o "$tmp/old" -nologo >"$tmp/old.log" 2>&1 || { cat "$tmp/old.log"; exit 1; }
dotnet build "$root/managed/Folio.Cli" -c Release -o "$tmp/new" -nologo >"$tmp/new.log" 2>&1 || { cat "$tmp/new.log"; exit 1; }
for round in $(seq 1 "$rounds"); do
    for v in old new; do
        echo "=== $v ($([[ $v == old ]] && echo "$rev" || echo "working tree")) round $round, load: $(cut -d' ' -f1-3 /proc/loadavg)"
        dotnet "$tmp/$v/folio.dll" bench --server --rounds 1 2>&1 | grep -E '^  (engine|http)|idle|after'
    done
done

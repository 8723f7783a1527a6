#!/usr/bin/env bash
# maskbench_ab.sh DIR ROUNDS TOKENIZER BUILD... : MaskBench (benchmark B9, issue 17) over the cases in DIR with each
# build (a folder holding folio.dll) in turn, the order rotated each round, one line per run: start time, the 1-minute
# load average at its start, wall seconds and the TOTAL row, the masks over 500 us and the collections' pause and
# allocation (from --slowest). On a shared machine only same-run ratios compare (bench/RESULTS.md).
# Subsets: a folder of links, e.g. bench/maskbench-ttfm200.txt (the 200 slowest first masks of main 28d175b):
#   mkdir /tmp/ttfm && while read n; do ln -s "$DATA/$n.json" /tmp/ttfm/; done < bench/maskbench-ttfm200.txt
set -euo pipefail
dir=$1; rounds=$2; tok=$3; shift 3; builds=("$@"); n=${#builds[@]}
for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < n; i++)); do
        b=${builds[$(( (i + r) % n ))]}
        load=$(cut -d' ' -f1 /proc/loadavg); t0=$(date -u +%H:%M:%S)
        out=$(nice -n -20 dotnet "$b/folio.dll" bench --structured "$dir" --tokenizer "$tok" --slowest 1 2>&1)
        tot=$(grep "^TOTAL" <<<"$out" | awk '{print "pass",$3,"compile",$5,"valid",$6,"invalid",$7,"TBM p50",$10,"p99",$11,"p99.9",$12,"TTFM p50",$13,"p99",$14}')
        wall=$(head -1 <<<"$out" | sed 's/.*thread, \([0-9.]*\) s.*/\1/')
        over=$(grep "^masks over" <<<"$out" | awk '{print "over500us",$5}')
        gc=$(grep "^GC:" <<<"$out" | sed 's/.*paused \([0-9.]*\) s in all; \([0-9.]*\) GB.*/gc \1 s alloc \2 GB/')
        echo "$b $t0 load $load wall $wall $tot $over $gc"
    done
done

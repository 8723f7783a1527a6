# test-totals.sh: parsing of test runners' summaries, sourced by test.sh, scripts/test-suites/*.sh and
# bench/gpu_session.sh, and tested by scripts/test-suites/totals.sh. Every function prints counts as
# "<passed> <failed> <skipped>" and returns non-zero when the log does not say what it must.

# The assembly names (without .dll) of the test projects (<IsTestProject>true) of a solution, one a line.
dotnet_test_projects() {
    local sln=$1 dir path
    dir=$(dirname "$sln")
    sed -n 's/^Project("[^"]*") = "[^"]*", "\([^"]*\.csproj\)".*/\1/p' "$sln" | tr '\\' '/' | while read -r path; do
        if grep -q '<IsTestProject>true</IsTestProject>' "$dir/$path"; then
            basename "$path" .csproj
        fi
    done
}

# dotnet_totals LOG PROJECT...: sums VSTest's per-assembly summary lines
#   "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, Duration: 1 s - Folio.Core.Tests.dll (net10.0)"
# and requires exactly one for each PROJECT: one that printed none (no tests discovered, a crash, a changed
# format) or two is named on standard error, and the function fails (the found counts are still printed).
dotnet_totals() {
    local log=$1; shift
    local p=0 f=0 s=0 ok=0 name n
    local lines
    lines=$(sed -n 's/.*Failed: *\([0-9][0-9]*\), Passed: *\([0-9][0-9]*\), Skipped: *\([0-9][0-9]*\), Total: *[0-9][0-9]*, Duration: .* - \([^ ]*\)\.dll .*/\4 \1 \2 \3/p' "$log")
    [[ $# -gt 0 ]] || { echo "dotnet_totals: no test projects given" >&2; ok=1; }
    for name in "$@"; do
        n=$(awk -v n="$name" '$1 == n' <<<"$lines" | wc -l)
        if [[ $n -ne 1 ]]; then
            echo "dotnet_totals: $name printed $n summary lines (expected 1)" >&2
            ok=1
        fi
    done
    while read -r name nf np ns; do
        [[ -n $name ]] || continue
        if ! printf '%s\n' "$@" | grep -qx "$name"; then
            echo "dotnet_totals: $name is not a test project of the solution" >&2
            ok=1
        fi
        p=$((p + np)); f=$((f + nf)); s=$((s + ns))
    done <<<"$lines"
    echo "$p $f $s"
    return $ok
}

# pytest_totals LOG: the counts of pytest's last summary line ("3 passed, 1 skipped in 0.5s", with or without
# "=" rules; errors count as failed). Fails when the log has no summary line.
pytest_totals() {
    local summary p f e s
    summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error|errors|deselected|xfailed|xpassed)' "$1" | tail -1)
    _pytest_count() { sed -n "s/.*\b\([0-9]\+\) $1.*/\1/p" <<<"$summary" | head -1; }
    p=$(_pytest_count passed); f=$(_pytest_count failed); e=$(_pytest_count error); s=$(_pytest_count skipped)
    echo "${p:-0} $(( ${f:-0} + ${e:-0} )) ${s:-0}"
    [[ -n $summary ]]
}

# ctest_totals LOG: ctest's per-test result lines ("  3/11 Test  #3: robustness ....   Passed    0.05 sec") as
# "<passed> <failed> <skipped> <examples>": tests named example_* are example programs that assert nothing, so a
# passing one is counted apart (examples) and only a failing one counts (as failed).
ctest_totals() {
    local line='^ *[0-9]+/[0-9]+ Test +#[0-9]+: '
    local p f s ex
    p=$(grep -E "$line"'.* +Passed' "$1" | grep -cvE "$line"'example_')
    ex=$(grep -E "$line"'example_.* +Passed' "$1" | wc -l)
    f=$(grep -cE "$line"'.*\*\*\*(Failed|Exception|Timeout)|Not Run' "$1")
    s=$(grep -cE "$line"'.*\*\*\*Skipped' "$1")
    echo "$p $f $s $ex"
}

# suite_totals OUT: the "SUITE <passed> <failed> <skipped>" line a scripts/test-suites/*.sh suite ends with.
suite_totals() {
    local line
    line=$(grep '^SUITE [0-9][0-9]* [0-9][0-9]* [0-9][0-9]*$' "$1" | tail -1)
    [[ -n $line ]] || { echo "0 0 0"; return 1; }
    echo "${line#SUITE }"
}

# pytest_ran_any LOG: succeeds when pytest's summary shows at least one test that ran (passed or failed); a
# run where everything was skipped (no GPU, no library) or that printed no summary tested nothing.
pytest_ran_any() {
    local p f s
    read -r p f s < <(pytest_totals "$1") || return 1
    [[ $((p + f)) -gt 0 ]]
}

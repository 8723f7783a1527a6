#!/usr/bin/env bash
# abi.sh: the C ABI suite. Publishes libfolio.so with NativeAOT (the x86-64-v3 and x86-64-v4 builds), builds
# bindings/c against it (CMake package, -Wall -Werror, an AddressSanitizer build of the robustness test) and runs its
# tests with ctest, then runs the Python package's tests (pytest, including the folio.h drift test). On a CPU with
# AVX-512 the C programs load the x86-64-v4 build (glibc-hwcaps, through their RUNPATH) and the Python tests the
# x86-64-v3 one (FOLIO_LIB names that file; test_library_choice.py loads the folder's pick): both builds run.
# Ends with "SUITE <passed> <failed> <skipped>" (see test.sh).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source "$root/scripts/test-totals.sh"
passed=0; failed=0; skipped=0
finish() { echo "SUITE $passed $failed $skipped"; exit 0; }
broken() { echo "abi: $1" >&2; failed=$((failed + 1)); finish; }

scripts/ensure-deps.sh dotnet abi || broken "missing dependencies"
lib_dir=$(scripts/publish-libfolio.sh) || broken "publishing libfolio.so failed"
./folio --help >/dev/null || broken "building the folio CLI failed"   # the Python parity test runs it

# C: configure, build, ctest. A test that exits 77 is reported by ctest as skipped (never as passed).
build="$root/build/abi-c"
cmake -S bindings/c -B "$build" -DFOLIO_LIBRARY_DIR="$lib_dir" -DFOLIO_ASAN=ON >/dev/null || broken "cmake configure failed"
cmake --build "$build" -j 2 2>&1 | grep -E 'error|warning' ; [[ ${PIPESTATUS[0]} -eq 0 ]] || broken "C build failed"
log=$(mktemp)
(cd "$build" && ctest --output-on-failure) 2>&1 | tee "$log"
# The example programs (example_*, label "example") assert nothing: a failing one counts as failed, a passing
# one is not counted as a passed test (only reported).
read -r c_passed c_failed c_skipped c_examples < <(ctest_totals "$log")
echo "abi: C examples that ran (not counted as tests): $c_examples"
passed=$((passed + c_passed)); failed=$((failed + c_failed)); skipped=$((skipped + c_skipped))
[[ $((c_passed + c_failed + c_skipped)) -gt 0 ]] || failed=$((failed + 1))

# Python: Debian's python3 (it has pytest and libclang's bindings).
FOLIO_LIB="$lib_dir/libfolio.so" /usr/bin/python3 -m pytest -q -p no:cacheprovider bindings/python/tests 2>&1 | tee "$log"
counts=$(pytest_totals "$log") || failed=$((failed + 1))
read -r py_passed py_failed py_skipped <<<"$counts"
passed=$((passed + py_passed)); failed=$((failed + py_failed)); skipped=$((skipped + py_skipped))
rm -f "$log"
finish

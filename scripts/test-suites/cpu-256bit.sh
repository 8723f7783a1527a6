#!/usr/bin/env bash
# cpu-256bit.sh: the CPU backend's tests (tests/Folio.Cpu.Tests) run again with the runtime's AVX-512 turned off
# (DOTNET_EnableAVX512=0), so that on an AVX-512 machine the 256-bit kernels (AVX2 and FMA: the GEMM row tiles, the
# 16-bit tiles, the two-pass attention), which Zen 3-class and older CPUs run, are checked too. On a CPU without
# AVX-512 the main run already took those paths: the suite then runs nothing and counts itself as one skipped test.
# Ends with "SUITE <passed> <failed> <skipped>" (see test.sh).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source "$root/scripts/test-totals.sh"
passed=0; failed=0; skipped=0
finish() { echo "SUITE $passed $failed $skipped"; exit 0; }
broken() { echo "cpu-256bit: $1" >&2; failed=$((failed + 1)); finish; }

if ! grep -qw avx512f /proc/cpuinfo; then
    echo "cpu-256bit: no AVX-512 on this CPU; the main run tested the 256-bit kernels"
    skipped=1
    finish
fi
scripts/ensure-deps.sh dotnet || broken "missing dependencies"
log=$(mktemp)
# test.sh's main run built the solution in Release; build again only if that left nothing to run.
DOTNET_EnableAVX512=0 dotnet test tests/Folio.Cpu.Tests -c Release -nologo 2>&1 | tee "$log" | grep -E '^\s+Failed |Passed!|Failed!'
counts=$(dotnet_totals "$log" Folio.Cpu.Tests) || { rm -f "$log"; broken "no test summary"; }
rm -f "$log"
read -r passed failed skipped <<<"$counts"
finish

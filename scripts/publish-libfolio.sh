#!/usr/bin/env bash
# publish-libfolio.sh [OUT]: publishes libfolio.so (managed/Folio.Interop, NativeAOT, linux-x64) into OUT
# (default artifacts/libfolio) with the soname symlink libfolio.so.1 beside it, and prints OUT.
# Two builds: OUT/libfolio.so for x86-64-v3 (AVX2 and FMA: every x64 server since 2015), and
# OUT/glibc-hwcaps/x86-64-v4/libfolio.so for CPUs with AVX-512. NativeAOT fixes the instruction set at publish
# (an x86-64-v3 build has no AVX-512 code at all: Avx512F.IsSupported is false there even on an AVX-512 CPU), and
# glibc's dynamic loader (2.33 and later) picks the glibc-hwcaps/x86-64-v4 copy on its own where the CPU runs it,
# for a host that finds libfolio.so.1 through its RUNPATH, LD_LIBRARY_PATH or the system directories. The Python
# package picks it the same way (folio/_lib.py).
# Skips a publish when nothing under managed/ changed since the last one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/artifacts/libfolio}"
"$root/scripts/ensure-deps.sh" dotnet

# publish DIR ISA: one NativeAOT build for ISA into DIR (its own native intermediates, so the two builds never
# share an object file), unless DIR's library is newer than every source.
publish() {
    local dir=$1 isa=$2 so="$1/libfolio.so"
    if [[ ! -f "$so" ]] || [[ -n "$(find "$root/managed" "$root/Directory.Build.props" "$root/Directory.Packages.props" \
            \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$so" \
            -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]]; then
        echo "publish-libfolio: NativeAOT publish of managed/Folio.Interop for $isa (takes a few minutes)..." >&2
        dotnet publish "$root/managed/Folio.Interop/Folio.Interop.csproj" -c Release -r linux-x64 -o "$dir" \
            -p:IlcInstructionSet="$isa" -p:NativeIntermediateOutputPath="obj/Release/net10.0/linux-x64/native-$isa/" \
            -nologo -v quiet -clp:ErrorsOnly -clp:NoSummary >&2
        touch "$so"
    fi
    # The soname is libfolio.so.1 (FOLIO_ABI_VERSION_MAJOR): loaders that follow DT_NEEDED look for that name.
    ln -sf libfolio.so "$dir/libfolio.so.1"
}

publish "$out" x86-64-v3
publish "$out/glibc-hwcaps/x86-64-v4" x86-64-v4
echo "$out"

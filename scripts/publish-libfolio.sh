#!/usr/bin/env bash
# publish-libfolio.sh [OUT]: publishes libfolio.so (managed/Folio.Interop, NativeAOT, linux-x64) into OUT
# (default artifacts/libfolio) with the soname symlink libfolio.so.1 beside it, and prints OUT.
# Skips the publish when nothing under managed/ changed since the last one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/artifacts/libfolio}"
"$root/scripts/ensure-deps.sh" dotnet
so="$out/libfolio.so"
if [[ ! -f "$so" ]] || [[ -n "$(find "$root/managed" "$root/Directory.Build.props" "$root/Directory.Packages.props" \
        \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$so" \
        -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]]; then
    echo "publish-libfolio: NativeAOT publish of managed/Folio.Interop (takes a few minutes)..." >&2
    dotnet publish "$root/managed/Folio.Interop/Folio.Interop.csproj" -c Release -r linux-x64 -o "$out" \
        -nologo -v quiet -clp:ErrorsOnly -clp:NoSummary >&2
    touch "$so"
fi
# The soname is libfolio.so.1 (FOLIO_ABI_VERSION_MAJOR): loaders that follow DT_NEEDED look for that name.
ln -sf libfolio.so "$out/libfolio.so.1"
echo "$out"

#!/usr/bin/env bash
# ensure-deps.sh WHAT...: installs what a step needs when it is missing (Debian packages; the .NET SDK must
# already be on the machine, as it is on every development and CI machine of this project).
#   dotnet  the .NET 10 SDK (checked, not installable from Debian)
#   cuda    nvcc (Debian's nvidia-cuda-toolkit, non-free) with clang-14 as its host compiler, and cmake
#   python  python3 with pytest
#   node    Node.js and npm (Debian's nodejs, npm): the Jinja parity suite's reference (@huggingface/jinja) and the
#           real tokenizer files the parity tests read
#   chromium  Debian's chromium (headless): the server suite drives the /kv page in it
#   abi     what the C ABI suite needs: cmake and a C compiler, Debian's python3 with pytest and libclang
#           (python3-clang-14 + libclang1-14, for the header drift test)
set -euo pipefail
apt_updated=0
apt_install() {
    if [[ $(id -u) -ne 0 ]]; then echo "ensure-deps: need root to install: $*" >&2; exit 1; fi
    if [[ $apt_updated -eq 0 ]]; then apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
enable_non_free() {
    local f=/etc/apt/sources.list.d/debian.sources
    if [[ -f $f ]] && ! grep -q non-free "$f"; then
        sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$f"
        apt_updated=0
    fi
}
for what in "$@"; do
    case "$what" in
        dotnet)
            if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
                echo "ensure-deps: the .NET 10 SDK is required (https://dot.net); it is not a Debian package" >&2
                exit 1
            fi ;;
        cuda)
            if ! command -v nvcc >/dev/null || ! command -v clang++-14 >/dev/null || ! command -v cmake >/dev/null; then
                enable_non_free
                apt_install nvidia-cuda-toolkit clang-14 cmake
            fi ;;
        python)
            if ! python3 -c 'import pytest' 2>/dev/null; then apt_install python3-pytest; fi ;;
        node)
            if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi ;;
        chromium)
            if ! command -v chromium >/dev/null; then apt_install chromium; fi ;;
        abi)
            missing=()
            command -v cmake >/dev/null || missing+=(cmake)
            command -v cc >/dev/null || missing+=(gcc libc6-dev)
            /usr/bin/python3 -c 'import pytest' 2>/dev/null || missing+=(python3-pytest)
            /usr/bin/python3 -c 'import clang.cindex; clang.cindex.Index.create()' 2>/dev/null \
                || missing+=(python3-clang-14 libclang1-14)
            if [[ ${#missing[@]} -gt 0 ]]; then apt_install "${missing[@]}"; fi ;;
        *) echo "ensure-deps: unknown dependency '$what'" >&2; exit 2 ;;
    esac
done

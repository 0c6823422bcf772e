#!/usr/bin/env bash
# Behaviour check: the ranked lists of the baselines and of rag-no-llm (with the fusion weights fixed in
# tests/behaviour/) must hash to what tests/behaviour/expected.sha256 recorded before the redesign (2026-11-30).
#   scripts/check_behaviour.sh [OUT_DIR]      # ~8 min on 2 cores (the ReDial run encodes 3,617 test queries)
# Needs the data (`llmkb data fetch`) and the packaged retriever (no fine-tuned one in artifacts/retriever/).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
expected="$PWD/tests/behaviour"
llmkb="${LLMKB:-$PWD/.venv/bin/llmkb}"
# fresh score caches and tuned weights; the KB and index caches (keyed by their inputs) are shared
export LLMKB_ARTIFACTS="$out/artifacts"
mkdir -p "$LLMKB_ARTIFACTS"
for built in kb index; do [ -d "artifacts/$built" ] && ln -sfn "$PWD/artifacts/$built" "$LLMKB_ARTIFACTS/$built"; done
run() {  # dataset protocol system [more options]
  "$llmkb" evaluate --dataset "$1" --protocol "$2" --system "$3" "${@:4}" \
    --predictions "$out/$1-$2-$3.jsonl" --report "$out/$1-$2-$3.report.json" >/dev/null
}
for protocol in std dedup; do
  for system in popularity copy-context bm25 retriever-zeroshot; do run inspired "$protocol" "$system"; done
  run inspired "$protocol" rag-no-llm --weights "$expected/inspired-$protocol.json"
done
run redial std rag-no-llm --weights "$expected/redial-std.json"
cd "$out" && sha256sum --check "$expected/expected.sha256"

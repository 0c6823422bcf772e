#!/usr/bin/env bash
# Reproduce the results tables: every system × dataset × protocol on the test split.
# Usage: scripts/evaluate_all.sh [SYSTEM ...]   (default: all systems; `retriever` needs `llmkb train-retriever` first)
set -euo pipefail
systems=("${@:-popularity copy-context bm25 retriever-zeroshot retriever}")
for system in ${systems[@]}; do
  for dataset in inspired redial; do
    for protocol in std dedup; do
      llmkb evaluate --dataset "$dataset" --protocol "$protocol" --system "$system"
    done
  done
done

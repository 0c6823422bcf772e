#!/usr/bin/env bash
# Reproduce the results tables: every system × dataset × protocol on the test split.
# Usage: scripts/evaluate_all.sh [SYSTEM ...]     (default: every system)
#   DATASETS="inspired" scripts/evaluate_all.sh rag   one dataset only
#   LIMIT=500 scripts/evaluate_all.sh rag retriever  the first 500 test samples (the LLM systems are slow on a CPU)
#   TUNE_SAMPLES=120 ...                            tune rag's fusion on the first 120 validation samples
# `retriever` and the rag systems use `llmkb train-retriever` models when present; `rag` tunes its fusion weights on
# the validation split on first use. LLM scores are cached, so an interrupted run resumes.
set -euo pipefail
systems=("${@:-popularity copy-context bm25 retriever-zeroshot retriever rag-no-llm rag llm-zeroshot rag-no-postprocess}")
limit="${LIMIT:+--limit $LIMIT} ${TUNE_SAMPLES:+--tune-samples $TUNE_SAMPLES}"
for system in ${systems[@]}; do
  for dataset in ${DATASETS:-inspired redial}; do
    for protocol in std dedup; do
      llmkb evaluate --dataset "$dataset" --protocol "$protocol" --system "$system" $limit
    done
  done
done

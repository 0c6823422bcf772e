#!/usr/bin/env python
"""The KB encoded through Ray Data (``llmkb kb index --workers``) against one process, side by side.

    python benchmarks/kb_index_ray.py --dataset redial --runs 1x2,2x1

Encodes the dataset's KB documents with the retriever (default: the packaged all-MiniLM-L6-v2) once in this
process (``SentenceTransformer.encode``, as ``DenseRetriever`` does) and once per WORKERSxCPUS run through
:func:`llmkb.scale.catalogue.encode_documents`; reports each one's seconds (Ray's start and the workers' model load
included), the largest difference of any embedding coordinate from the one-process encoding, and how many of the
top-50 items of validation queries a flat index over each encoding shares with the one-process index. JSON in
artifacts/benchmarks/kb-index-ray-DATASET.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from llmkb.data import load_dataset
from llmkb.data.io import atomic_write_json
from llmkb.kb import build_kb, load_kb
from llmkb.machine import cpu_name
from llmkb.models import default_retriever_path
from llmkb.paths import artifacts_dir, data_dir
from llmkb.retrieval.index import DenseIndex
from llmkb.retrieval.query import QueryBuilder, QueryConfig
from llmkb.retrieval.retriever import MAX_SEQ_LENGTH, load_encoder
from llmkb.scale import connect
from llmkb.scale.catalogue import encode_documents


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    parser.add_argument("--retriever", type=Path, default=None)
    parser.add_argument("--runs", default="1x2,2x1", help="comma-separated WORKERSxCPUS")
    parser.add_argument("--queries", type=int, default=500, help="validation queries for the top-50 agreement")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset(args.dataset, data_dir())
    documents = load_kb(build_kb(dataset)[0])
    texts, ids = [d.text for d in documents], [d.item_id for d in documents]
    path = args.retriever or default_retriever_path()
    model = load_encoder(path)
    started = time.perf_counter()
    reference = model.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=True)
    runs = [{"run": "process", "seconds": round(time.perf_counter() - started, 1), "max_abs_diff": 0.0,
             "top50_agreement": 1.0}]
    builder = QueryBuilder.for_dataset(dataset, QueryConfig(), documents)
    samples = dataset.samples("valid", "std")[:args.queries]
    queries = model.encode([builder.build(s.context) for s in samples], batch_size=64, convert_to_numpy=True)
    exact = [[i for i, _ in row] for row in DenseIndex.build(reference, ids).search(queries, 50)]
    for spec in args.runs.split(","):
        workers, cpus = map(int, spec.split("x"))
        started = time.perf_counter()
        with connect(workers, cpus_per_worker=cpus) as cluster:
            vectors = encode_documents(texts, path, cluster, MAX_SEQ_LENGTH)
        seconds = time.perf_counter() - started
        found = [[i for i, _ in row] for row in DenseIndex.build(vectors, ids).search(queries, 50)]
        runs.append({"run": spec, "seconds": round(seconds, 1),
                     "max_abs_diff": float(np.abs(vectors - reference).max()),
                     "top50_agreement": float(np.mean([len(set(a) & set(b)) / 50 for a, b in zip(found, exact)])),
                     "top50_identical_lists": float(np.mean([a == b for a, b in zip(found, exact)]))})
        print(runs[-1], file=sys.stderr)
    result = {"dataset": args.dataset, "documents": len(texts), "retriever": str(path), "queries": len(samples),
              "cpu": cpu_name(), "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
              "command": " ".join(sys.argv), "runs": runs}
    atomic_write_json(artifacts_dir() / "benchmarks" / f"kb-index-ray-{args.dataset}.json", result)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""FAISS index options on a synthetic catalogue of a million items: build time, recall@50 against exact search,
p50 query latency and memory, per index kind and search setting.

    python benchmarks/ann_catalogue.py --items 1000000 --queries 1000

The catalogue is built for the purpose, nothing is committed: each synthetic item is a mix of two real ReDial KB
documents' embeddings (the packaged all-MiniLM-L6-v2, 70/30) plus Gaussian noise, L2-normalised, so items cluster as
real documents do. The queries are real: the retriever's query embeddings of ReDial validation samples (never test).
Exact top-50 (IndexFlatIP) is the reference. Latency: one query at a time, on all cores (faiss' OpenMP threads),
``--latency-queries`` of them, p50; memory: the serialised index's size. Writes JSON (artifacts/benchmarks/
ann-catalogue-N.json) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import faiss
import numpy as np
from tqdm.auto import tqdm

from llmkb.data import load_dataset
from llmkb.data.io import atomic_write_json
from llmkb.machine import cpu_name
from llmkb.paths import artifacts_dir, data_dir
from llmkb.retrieval import DenseRetriever
from llmkb.retrieval.index import HNSW_EF_SEARCH, IVF_PROBE, RERANK, make_index, train

K = 50
# search settings per kind; ivfpq: (lists probed, re-ranked candidates per result); ivfpq-codes: ivfpq without its
# re-ranking (the PQ codes' own scores)
SETTINGS = {"flat": [None], "hnsw": [64, 128, 256, 512, HNSW_EF_SEARCH],
            "ivfpq": [(IVF_PROBE, 2), (IVF_PROBE, 4), (IVF_PROBE, RERANK), (256, RERANK)],
            "ivfpq-codes": [16, IVF_PROBE, 256]}


def build_kind(dim: int, kind: str, items: int) -> faiss.Index:
    return make_index(dim, "ivfpq", items, rerank=False) if kind == "ivfpq-codes" else make_index(dim, kind, items)


def synthetic_catalogue(base: np.ndarray, items: int, seed: int, noise: float) -> np.ndarray:
    """``items`` vectors: 0.7·a + 0.3·b + noise for random real documents a, b, L2-normalised."""
    rng = np.random.default_rng(seed)
    out = np.empty((items, base.shape[1]), dtype=np.float32)
    for start in tqdm(range(0, items, 100_000), desc="synthetic catalogue", unit="100k items"):
        n = min(100_000, items - start)
        a, b = base[rng.integers(len(base), size=n)], base[rng.integers(len(base), size=n)]
        block = 0.7 * a + 0.3 * b + rng.normal(0, noise / np.sqrt(base.shape[1]), (n, base.shape[1])).astype(np.float32)
        faiss.normalize_L2(block)
        out[start:start + n] = block
    return out


def real_queries(dataset, retriever: DenseRetriever, n: int, seed: int) -> np.ndarray:
    samples = dataset.samples("valid", "std")
    chosen = np.random.default_rng(seed).permutation(len(samples))[:n]
    vectors = retriever.encode([retriever.query_builder.build(samples[i].context) for i in sorted(chosen)])
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    faiss.normalize_L2(vectors)
    return vectors


def set_search(index: faiss.Index, kind: str, value) -> None:
    if kind == "hnsw":
        index.hnsw.efSearch = value
    elif kind == "ivfpq-codes":
        index.nprobe = value
    elif kind == "ivfpq":
        faiss.downcast_index(index.base_index).nprobe, index.k_factor = value


def latency_ms(index: faiss.Index, queries: np.ndarray) -> float:
    times = []
    for query in queries:
        started = time.perf_counter()
        index.search(query[None], K)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000, help="ReDial validation queries for recall")
    parser.add_argument("--latency-queries", type=int, default=200, help="of those, timed one by one")
    parser.add_argument("--kinds", default="flat,hnsw,ivfpq,ivfpq-codes")
    parser.add_argument("--noise", type=float, default=0.3, help="norm of the noise added to each synthetic item")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=str, default=None)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset("redial", args.data_dir or data_dir())
    retriever = DenseRetriever.for_dataset(dataset, progress=False)  # the packaged MiniLM over the ReDial KB
    base = retriever.index.vectors()
    queries = real_queries(dataset, retriever, args.queries, args.seed)
    vectors = synthetic_catalogue(base, args.items, args.seed, args.noise)
    timed = queries[:args.latency_queries]

    rows, truth = [], None
    for kind in args.kinds.split(","):
        index = build_kind(vectors.shape[1], kind, len(vectors))
        started = time.perf_counter()
        train(index, vectors)
        index.add(vectors)
        build = time.perf_counter() - started
        memory = faiss.serialize_index(index).nbytes
        print(f"{kind}: built in {build:.0f} s, {memory / 2**20:.0f} MiB", file=sys.stderr)
        for value in SETTINGS[kind]:
            set_search(index, kind, value)
            _, found = index.search(queries, K)
            if kind == "flat":
                truth = found
            recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))
            rows.append({"kind": kind, "search": value, "build_seconds": round(build, 1),
                         "memory_mib": round(memory / 2**20, 1), "recall@50": round(recall, 4),
                         "p50_ms": round(latency_ms(index, timed), 2)})
            print(rows[-1], file=sys.stderr)
        del index
    result = {"items": args.items, "dim": int(vectors.shape[1]), "queries": len(queries),
              "latency_queries": len(timed), "noise": args.noise, "seed": args.seed, "cpu": cpu_name(),
              "cores": os.cpu_count(), "faiss": faiss.__version__, "date": time.strftime("%Y-%m-%d"),
              "command": " ".join(sys.argv), "retriever": str(retriever.model_path), "rows": rows}
    atomic_write_json(artifacts_dir() / "benchmarks" / f"ann-catalogue-{args.items}.json", result)
    print("| index | search | build (s) | memory (MiB) | recall@50 | p50 latency (ms) |\n|---|---|---|---|---|---|")
    for r in rows:
        search = {"hnsw": lambda v: f"efSearch {v}", "ivfpq-codes": lambda v: f"nprobe {v}",
                  "ivfpq": lambda v: f"nprobe {v[0]}, re-rank {v[1]}×50"}.get(r["kind"], lambda v: "exact")(r["search"])
        print(f"| {r['kind']} | {search} | {r['build_seconds']:.0f} | {r['memory_mib']:.0f} | {r['recall@50']:.3f} | "
              f"{r['p50_ms']:.2f} |")
    return result


if __name__ == "__main__":
    main()

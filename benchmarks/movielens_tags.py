#!/usr/bin/env python
"""Do MovieLens tags help the retriever? (issue 33: "tags join the KB documents as facts where they help, measured")

    python benchmarks/movielens_tags.py --dataset redial [--split valid] [--most 8]

MovieLens users tag movies ("pixar", "twist ending", "dark comedy"). This writes each tagged catalogue movie's
``--most`` most used tags into its KB document, right after its title (documents are longer than the encoder's
128-token window, so a line at the end would be cut), encodes the documents with the packaged retriever, and
scores the seekers' queries of ``--split`` against the documents with and without tags: Recall@10 / @50, and the
paired difference with its standard error. Validation is the default: a source is chosen on valid, never on test.
Tags are external behaviour data (no dialogue), mapped to the catalogue through IMDb ids as the ranker's
MovieLens features are (``catalogue_links``).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import time
import warnings
import zipfile
from collections import Counter, defaultdict

import numpy as np

from llmkb.data import load_dataset
from llmkb.data.movielens import load_movielens, movielens_path
from llmkb.evaluation.metrics import sample_metrics
from llmkb.kb import build_kb, load_kb
from llmkb.machine import cpu_name
from llmkb.models import default_retriever_path
from llmkb.priors.behaviour import catalogue_links
from llmkb.retrieval import DenseRetriever
from llmkb.retrieval.query import QueryBuilder
from llmkb.retrieval.retriever import load_encoder


def movie_tags(most: int) -> dict[int, list[str]]:
    """MovieLens movie id → its ``most`` most used tags (lower case; ties by first use)."""
    counts: dict[int, Counter] = defaultdict(Counter)
    with zipfile.ZipFile(movielens_path()) as archive:
        with archive.open("ml-latest-small/tags.csv") as raw:
            for row in csv.DictReader(io.TextIOWrapper(raw, "utf-8")):
                tag = " ".join(row["tag"].split()).lower()
                if tag and row["movieId"].isdigit():
                    counts[int(row["movieId"])][tag] += 1
    return {movie: [tag for tag, _ in tags.most_common(most)] for movie, tags in counts.items()}


def recalls(retriever: DenseRetriever, queries: list[str], golds: list[list[str]]) -> np.ndarray:
    """Per sample: Recall@10 and Recall@50."""
    found = retriever.search(queries, 50)
    rows = [sample_metrics([item for item, _ in ranked], gold) for ranked, gold in zip(found, golds)]
    return np.array([[row["recall@10"], row["recall@50"]] for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    parser.add_argument("--split", choices=["valid", "test"], default="valid")
    parser.add_argument("--protocol", choices=["std", "dedup"], default="std")
    parser.add_argument("--most", type=int, default=8, help="tags per movie at most")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    dataset = load_dataset(args.dataset)
    documents = load_kb(build_kb(dataset)[0])
    links = catalogue_links(dataset.catalog, dataset.metadata, load_movielens())
    tags = movie_tags(args.most)
    tagged = []
    for doc in documents:
        words = tags.get(links.get(doc.item_id), [])
        head = doc.display + "."
        tagged_text = doc.text.replace(head, f"{head} Tagged by MovieLens users: {', '.join(words)}.", 1)
        text = tagged_text if words else doc.text
        tagged.append(dataclasses.replace(doc, text=text))
    model_path = default_retriever_path()
    model = load_encoder(model_path)
    builder = QueryBuilder.for_dataset(dataset, documents=documents)
    samples = dataset.samples(args.split, args.protocol)
    queries, golds = [builder.build(s.context) for s in samples], [list(s.gold) for s in samples]
    scores = {}
    for name, docs in (("without tags", documents), ("with tags", tagged)):
        retriever = DenseRetriever(model, model_path, docs, builder, progress=True)
        scores[name] = recalls(retriever, queries, golds)
    difference = scores["with tags"] - scores["without tags"]
    result = {
        "benchmark": f"MovieLens tags in the KB documents, packaged retriever, {args.dataset}-{args.protocol} "
                     f"{args.split}",
        "samples": len(samples), "documents": len(documents),
        "documents_tagged": sum(a.text != b.text for a, b in zip(documents, tagged)),
        "most_tags": args.most,
        **{f"{name} R@{k}": round(float(s[:, n].mean()), 4) for name, s in scores.items()
           for n, k in enumerate((10, 50))},
        **{f"with - without R@{k}": f"{difference[:, n].mean():+.4f} ± "
                                     f"{difference[:, n].std(ddof=1) / np.sqrt(len(samples)):.4f}"
           for n, k in enumerate((10, 50))},
        "seconds": round(time.perf_counter() - started, 1), "cpu": cpu_name(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

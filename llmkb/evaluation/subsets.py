"""Recall on the samples whose context links a person, genre or decade: where the KB's knowledge can help.

``python scripts/linked_subset.py --dataset D --protocol P BEFORE.predictions.jsonl AFTER.predictions.jsonl``
prints, for the whole test split and for that subset, each predictions file's Recall@1/10/50 with its standard
error (the spread of per-sample recall / √samples), so two runs can be compared on the same samples.

>>> summary([{"recall@1": 1.0}, {"recall@1": 0.0}], "recall@1")
(0.5, 0.5)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

from llmkb.data import load_dataset
from llmkb.data.io import read_jsonl
from llmkb.evaluation.metrics import RECALL_KS, sample_metrics
from llmkb.kb.facts import PEOPLE

LINKED = (*PEOPLE, "person", "genre", "year")


def linked_samples(dataset_name: str, protocol: str, split: str = "test", data_dir: Path | None = None) -> set[str]:
    """Ids of the samples whose context states a person, genre or year preference (either polarity)."""
    from llmkb.retrieval import QueryBuilder

    dataset = load_dataset(dataset_name, data_dir)
    builder = QueryBuilder.for_dataset(dataset)
    return {s.sample_id for s in dataset.samples(split, protocol)
            if any(p.relation in LINKED for p in builder.state(s.context).preferences)}


def summary(per_sample: Sequence[dict], metric: str) -> tuple[float, float]:
    """Mean of a per-sample metric and its standard error."""
    values = [m[metric] for m in per_sample]
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1))
    return mean, spread / math.sqrt(len(values))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, choices=("redial", "inspired"))
    parser.add_argument("--protocol", required=True, choices=("std", "dedup"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("predictions", type=Path, nargs="+", help="predictions JSONL files of `llmkb evaluate`")
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset, args.data_dir)
    gold = {s.sample_id: s.gold for s in dataset.samples("test", args.protocol)}
    subset = linked_samples(args.dataset, args.protocol, data_dir=args.data_dir)
    print(f"{args.dataset}-{args.protocol} test: {len(gold):,} samples, {len(subset):,} with a linked person, "
          "genre or decade preference")
    for path in args.predictions:
        ranked = {row["sample_id"]: row["ranked"] for _, row in read_jsonl(path, expect=dict)}
        for name, ids in (("all", list(gold)), ("linked", [i for i in gold if i in subset])):
            per_sample = [sample_metrics(ranked[i], gold[i]) for i in ids]
            shown = "  ".join("R@{} {:.4f} ± {:.4f}".format(k, *summary(per_sample, f"recall@{k}")) for k in RECALL_KS)
            print(f"  {path.name} [{name}, {len(ids):,}]: {shown}")

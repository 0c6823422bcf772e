#!/usr/bin/env python
"""Time a full test evaluation with a dense retriever (index cached), and report the recorded training time.

    python benchmarks/retrieval_eval.py --dataset redial --system retriever
The first call builds the index (not timed); the timed call encodes every query and searches the cached index.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

from llmkb.data import load_dataset
from llmkb.evaluation import Run, evaluate, make_system
from llmkb.retrieval.artifacts import finetuned_path
from llmkb.paths import artifacts_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    parser.add_argument("--protocol", choices=["std", "dedup"], default="std")
    parser.add_argument("--system", choices=["retriever", "retriever-zeroshot"], default="retriever")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    dataset = load_dataset(args.dataset)
    system = make_system(args.system, dataset)  # builds or loads the cached index
    out = artifacts_dir() / "benchmarks"
    started = time.perf_counter()
    report = evaluate(dataset, Run(args.dataset, args.protocol, "test", args.system), system,
                      out / "bench.predictions.jsonl", out / "bench.report.json", progress=False)
    seconds = time.perf_counter() - started
    training = finetuned_path(args.dataset).parent / "training.json"
    result = {"benchmark": f"{args.dataset}-{args.protocol} test evaluation, {args.system}, index cached",
              "samples": report["metrics"]["samples"], "seconds": round(seconds, 1),
              "training_seconds": json.loads(training.read_text())["seconds"] if training.is_file() else None,
              "machine": f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores",
              "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

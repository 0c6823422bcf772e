#!/usr/bin/env python
"""Latency of a chat turn as the demo serves it: time to the cards, to the reply's first words, and to the end.

    python benchmarks/chat_latency.py --dataset redial --turns 30

Runs the opening seeker turns of validation dialogues through the served recommender (``llmkb.app.build``: the
calibrated retriever and the learned ranker once built, ranking without LLM scores, the reply streamed from the
trained reply writer once trained, 8-bit in ONNX Runtime) and, in the same run and turn by turn, through the same
recommender with the writer in float32 (as served before), and writing its replies as it did before issue 19 (the base
LLM's int8 copy). Two warm-up turns each are not timed.
Prints p50/p95 of the three times per build and the ratios, as JSON (also written to
artifacts/benchmarks/chat-latency-DATASET.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
import warnings

import torch

from llmkb.app.build import served_config
from llmkb.data.io import atomic_write_json
from llmkb.machine import cpu_name
from llmkb.data.records import SEEKER
from llmkb.paths import artifacts_dir
from llmkb.pipeline import Recommender

TIMES = ("cards", "first_text", "turn")


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def timed_turn(recommender: Recommender, text: str) -> dict:
    """Seconds from sending ``text`` to the cards, to the first words of the reply, and to the whole turn."""
    started = time.perf_counter()
    found = recommender.rank([], text)
    *_, done = recommender.reply_steps(found)
    return {"cards": found.seconds["cards"], "first_text": done.seconds["first_text"],
            "turn": time.perf_counter() - started, "templated": done.templated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    parser.add_argument("--turns", type=int, default=30, help="timed turns per build")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)
    served = served_config(args.dataset)
    builds = {"served": served, "served in float32": dataclasses.replace(served, reply_runtime="float32"),
              "before": dataclasses.replace(served, reply_lora=None, reply_runtime="int8")}
    recommenders = {name: Recommender(config, progress=False) for name, config in builds.items()}
    openers = [turn.text for d in recommenders["served"].stages.dataset.valid for turn in d.turns[:1]
               if turn.role == SEEKER]
    if len(openers) < args.turns + 2:
        raise SystemExit(f"only {len(openers)} seeker openers in the validation split; ask for fewer --turns")
    runs: dict[str, list[dict]] = {name: [] for name in builds}
    for i, text in enumerate(openers[: args.turns + 2]):
        for name, recommender in recommenders.items():  # turn by turn, so both see the same machine state
            result = timed_turn(recommender, text)
            if i >= 2:
                runs[name].append(result)
    result = {
        "benchmark": f"one chat turn, {args.dataset} catalogue, {args.turns} validation openers, "
                     f"{builds['served'].reply_tokens}-token replies",
        "builds": {name: {
            **{f"{t}_p50_s": round(percentile([r[t] for r in rows], 50), 3) for t in TIMES},
            **{f"{t}_p95_s": round(percentile([r[t] for r in rows], 95), 3) for t in TIMES},
            "template_replies": sum(r["templated"] for r in rows),
            "retriever": str(recommenders[name].config.retriever), "weights": str(recommenders[name].config.weights),
            "ranker": str(recommenders[name].config.ranker),
            "llm_scoring": recommenders[name].stages.uses_llm, "setup": recommenders[name].config.setup,
            "reply_lora": str(recommenders[name].config.reply_lora),
            "reply_runtime": recommenders[name].config.reply_runtime,
            "reply_lookup": recommenders[name].config.reply_lookup,
        } for name, rows in runs.items()},
        "threads": args.threads,
        "machine": f"{cpu_name()}, {os.cpu_count()} cores", "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
    }
    served = result["builds"]["served"]
    for name in builds.keys() - {"served"}:
        other = result["builds"][name]
        result[f"speed-up ({name} / served, p50)"] = {t: round(other[f"{t}_p50_s"] / served[f"{t}_p50_s"], 2)
                                                     for t in TIMES}
    atomic_write_json(artifacts_dir() / "benchmarks" / f"chat-latency-{args.dataset}.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

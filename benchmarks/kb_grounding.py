#!/usr/bin/env python
"""What KB grounding adds to a chat turn on this CPU: linking, KB candidates, the KB-match signal, the constraints.

    python benchmarks/kb_grounding.py --dataset redial --dialogues 300
Replays validation dialogues turn by turn as chat sees them (the whole history so far, each seeker turn a new
message), and times, per turn: entity linking of the dialogue (``EntityLinker.dialogue``, with its per-turn cache as
in chat), the KB candidates (``FactIndex.candidates``), the KB-match score of ~150 candidates and the request
filter over them. Prints p50/p95/max in milliseconds as JSON (also written to artifacts/benchmarks/).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

from llmkb.data import load_dataset
from llmkb.data.io import atomic_write_json
from llmkb.machine import cpu_name
from llmkb.data.records import SEEKER
from llmkb.kb import build_kb, load_kb
from llmkb.paths import artifacts_dir
from llmkb.priors.training import TrainingPriors
from llmkb.pipeline.stages import KB_CANDIDATES, RequestFilter
from llmkb.retrieval import QueryBuilder

CANDIDATES = 150  # about what CandidateFinder hands on: 50 retrieved, ≤ 50 co-mentioned, ≤ 50 from the KB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["redial", "inspired"], default="redial")
    parser.add_argument("--dialogues", type=int, default=300, help="validation dialogues replayed")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    dataset = load_dataset(args.dataset)
    builder = QueryBuilder.for_dataset(dataset, documents=load_kb(build_kb(dataset)[0]))
    linker, facts = builder.linker, builder.linker.index
    priors = TrainingPriors.from_dialogues(dataset.train, dataset.popularity)
    request = RequestFilter(facts)
    pool = list(dataset.popularity[:CANDIDATES])
    timings: dict[str, list[float]] = {"linking": [], "kb_candidates": [], "kb_match": [], "constraints": [],
                                       "total": []}
    for dialogue in dataset.valid[: args.dialogues]:
        for end, turn in enumerate(dialogue.turns, start=1):
            if turn.role != SEEKER:
                continue
            context = dialogue.turns[:end]
            started = time.perf_counter()
            state = builder.state(context)
            linked = time.perf_counter()
            found = facts.candidates(state.preferences, priors.popularity, KB_CANDIDATES)
            listed = time.perf_counter()
            ids = list(dict.fromkeys([*pool[: CANDIDATES - len(found)], *found]))
            facts.match_scores(ids, state.preferences)
            scored = time.perf_counter()
            request(ids, state, 5)
            done = time.perf_counter()
            for name, seconds in (("linking", linked - started), ("kb_candidates", listed - linked),
                                  ("kb_match", scored - listed), ("constraints", done - scored),
                                  ("total", done - started)):
                timings[name].append(seconds * 1000)
    summary = {name: {"p50_ms": round(statistics.median(v), 2),
                      "p95_ms": round(statistics.quantiles(v, n=20)[-1], 2), "max_ms": round(max(v), 2)}
               for name, v in timings.items()}
    result = {"benchmark": "kb_grounding", "dataset": args.dataset, "turns": len(timings["total"]),
              "dialogues": min(args.dialogues, len(dataset.valid)), "cpu": cpu_name(), "per_turn": summary,
              "note": "linking includes building the retriever's query text (QueryBuilder.state)",
              "date": time.strftime("%Y-%m-%d")}
    out = artifacts_dir() / "benchmarks" / f"kb_grounding-{args.dataset}.json"
    atomic_write_json(out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""The first run: build the recommender that RESULTS' headline rows measure, and say how far along it is.

For one catalogue, two steps, each cached by its inputs (a built system is found in seconds; an interrupted build
resumes):

1. calibrate the retriever (``llmkb.retrieval.calibrate``: 1–3 min on 2 CPU cores);
2. train the learned ranker of the served setup (``llmkb.fitting.train_ranker``: 2–5 min, most of it the out-of-fold
   training data), on the dedup protocol, which scores new movies as chat recommends them.

The served setup (``SERVED``) ranks without LLM scores: the fusion tuning gave the LLM's score weight 0 on three of
the four dataset × protocol pairs (docs/results/ranking.md), scoring the training split with it would take hours here, and
it costs 0.7 s a turn. The LLM still writes the replies. ``llmkb chat --llm-scoring`` serves the scoring setup instead.

>>> build = Build()
>>> build.at(0.4) or build.status()
'checking what is built: 40%'
>>> config = build_served("inspired", data_dir, build, progress=False, retriever=encoder_path,  # the tiny world
...                       replies=False)  # (True: then train the reply writer, ~25 min)
>>> build.status(), config.ranker is not None, config.llm_scoring
('built', True, False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from llmkb.data import load_dataset
from llmkb.pipeline import RecommenderConfig, Stages
from llmkb.pipeline.tuned import with_tuned_ranking
from llmkb.fitting.reply_data import train_reply_writer, with_reply_writer
from llmkb.retrieval import DenseRetriever
from llmkb.retrieval.calibrate import ensure_calibrated
from llmkb.retrieval.artifacts import calibration_base

SERVED = {"llm_scoring": False}
TUNED_ON = "dedup"
CALIBRATING, TRAINING, WRITING = "calibrating the retriever", "training the ranker", "training the reply writer"


class Build:
    """Where a build stands, for a status line: its step and the fraction done, then "built" or the error."""

    def __init__(self) -> None:
        self.step, self.fraction, self.finished, self.error = "checking what is built", 0.0, False, None
        self.on_ranked: Callable[[RecommenderConfig], None] | None = None  # the service swaps the ranker in
        self.ranked = False  # the retriever and ranker are built (and swapped in); the reply writer may still train
        self.loading = False  # what was built is being loaded to be served

    def rank_ready(self, config: RecommenderConfig) -> None:
        """The retriever and the ranker are built: serve them while the reply writer trains."""
        self.loading = True
        try:
            if self.on_ranked is not None:
                self.on_ranked(config)
        finally:
            self.loading = False
        self.ranked = True

    def at(self, fraction: float, step: str | None = None) -> None:
        self.step, self.fraction = step or self.step, min(max(fraction, 0.0), 1.0)

    @property
    def running(self) -> bool:
        return not (self.finished or self.error)

    def status(self) -> str:
        if self.error:
            return f"the build failed: {self.error}"
        if self.finished:
            return "built"
        return f"{self.step}: {self.fraction:.0%}" if self.fraction else self.step


def served_config(dataset: str, **options) -> RecommenderConfig:
    """The served recommender's config for ``dataset`` with what is built so far: the calibrated retriever once
    built, the learned ranker trained for its setup once trained (else the tuned or built-in fusion weights), and
    the trained reply writer once trained."""
    return with_reply_writer(with_tuned_ranking(RecommenderConfig(dataset=dataset, **{**SERVED, **options})))


def build_served(dataset: str, data_dir: Path | None = None, build: Build | None = None, progress: bool = True,
                 retriever: Path | None = None, replies: bool = True, llm: Path | None = None,
                 **reply_options) -> RecommenderConfig:
    """Build what the served recommender of ``dataset`` still lacks; returns its config. ``retriever``: the base
    to calibrate (default: :func:`calibration_base`). ``replies``: then train the reply writer of ``llm`` (default:
    the packaged one) on both catalogues' training splits, ~25 min on 2 cores (``reply_options``:
    ``RecommenderConfig`` fields for the stages its training pairs come from)."""
    build = build or Build()
    try:
        loaded = load_dataset(dataset, data_dir)
        build.at(0.0, CALIBRATING)
        base = DenseRetriever.for_dataset(loaded, retriever or calibration_base(dataset), progress=progress)
        calibrated = ensure_calibrated(loaded, base, report=build.at, progress=progress)
        build.at(0.0, TRAINING)
        config = served_config(dataset, data_dir=data_dir, retriever=calibrated, llm=llm)
        if config.ranker is None:
            from llmkb.fitting.train_ranker import train_ranker

            train_ranker(Stages.load(dataclasses.replace(config, use_llm=False), progress), TUNED_ON,
                         report=build.at, progress=progress)
            config = served_config(dataset, data_dir=data_dir, retriever=calibrated, llm=llm)
        build.rank_ready(config)
        if replies and config.reply_lora is None:
            build.at(0.0, WRITING)
            train_reply_writer(data_dir, llm, progress=progress, report=build.at, **reply_options)
            config = served_config(dataset, data_dir=data_dir, retriever=calibrated, llm=llm)
    except Exception as exc:
        build.error = str(exc) or type(exc).__name__
        raise
    build.finished = True
    return config

"""Where what was tuned and trained for one recommender setup is kept, and the config chat serves with it.

``llmkb tune-fusion`` writes fusion weights to :func:`tuned_weights_path`, ``llmkb train-ranker`` writes a learned
ranker to :func:`trained_ranker_path`; :func:`with_tuned_ranking` is the one place that chat and the demo ask for
"the tuned ranking for this setup". Evaluation names its files itself (``llmkb.fitting`` loads or trains them).

>>> trained_ranker_path("inspired", "std", "abc", without=("graph",)).name
'std-abc-without-graph.json'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from llmkb.paths import artifacts_dir
from llmkb.pipeline.config import RecommenderConfig

TUNED_FOR_CHAT = ("dedup", "std")  # chat recommends new movies, as the dedup protocol scores; std when only it exists


def tuned_weights_path(dataset: str, protocol: str, setup_key: str) -> Path:
    """Where ``llmkb tune-fusion`` writes the weights tuned for one setup and protocol (unless told otherwise)."""
    return artifacts_dir() / "fusion" / dataset / f"{protocol}-{setup_key}.json"


def trained_ranker_path(dataset: str, protocol: str, setup_key: str, without: Sequence[str] = ()) -> Path:
    """Where ``llmkb train-ranker`` writes the learned ranker of one setup and protocol (and ablation)."""
    suffix = "".join(f"-without-{source}" for source in sorted(without))
    return artifacts_dir() / "ranker" / dataset / f"{protocol}-{setup_key}{suffix}.json"


def with_tuned_ranking(config: RecommenderConfig) -> RecommenderConfig:
    """``config`` as chat and the demo use it: what it does not name, taken from what was tuned for its setup
    (dedup's, else std's): the learned ranker when its setup ranks without the LLM and one was trained, and the
    fusion weights."""
    key = config.resolved().setup_key
    for name, path in (("weights", tuned_weights_path), ("ranker", trained_ranker_path)):
        if getattr(config, name) is None and (name == "weights" or config.setup["llm"] is None):
            found = (path(config.dataset, protocol, key) for protocol in TUNED_FOR_CHAT)
            config = dataclasses.replace(config, **{name: next((p for p in found if p.is_file()), None)})
    return config

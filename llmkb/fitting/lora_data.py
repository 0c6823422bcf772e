"""Training pairs for LoRA: the recommender's own ranking prompt → a gold title, from training dialogues only.

The prompt is exactly what the LLM sees when it scores candidates (dialogue, preferences, the top retrieved KB
documents), so the adapter learns to put its probability on the movie the recommender then suggested.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tqdm.auto import tqdm

from llmkb.data.records import Sample
from llmkb.pipeline.stages import RETRIEVED, Stages


def lora_pairs(stages: Stages, samples: Sequence[Sample], limit: int, seed: int = 0,
               progress: bool = True) -> list[tuple[str, str]]:
    """Up to ``limit`` (rendered prompt, gold ``Title (Year)``) pairs from a seeded sample of ``samples``."""
    catalog = stages.catalog
    chosen = [s for s in samples if any(g in catalog for g in s.gold)]
    chosen = random.Random(seed).sample(chosen, min(limit, len(chosen)))
    states = stages.states([s.context for s in chosen])
    rows = stages.retriever.search([state.query for state in states], k=RETRIEVED)
    pairs = []
    for sample, state, row in tqdm(list(zip(chosen, states, rows)), desc="LoRA prompts", disable=not progress):
        documents = [item for item, _ in row[: stages.config.kb_documents]]
        gold = next(g for g in sample.gold if g in catalog)
        pairs.append((stages.prompts(state, documents).text, catalog[gold].display))
    return pairs

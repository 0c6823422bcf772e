"""Training pairs for LoRA: the recommender's own ranking prompt → a gold title, from training dialogues only.

The prompt is exactly what the LLM sees when it scores candidates (dialogue, preferences, the top retrieved KB
documents), so the adapter learns to put its probability on the movie the recommender then suggested.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tqdm.auto import tqdm

from llmkb.data.records import Sample
from llmkb.pipeline.recommender import Recommender, RETRIEVED


def lora_pairs(recommender: Recommender, samples: Sequence[Sample], limit: int, seed: int = 0,
               progress: bool = True) -> list[tuple[str, str]]:
    """Up to ``limit`` (rendered prompt, gold ``Title (Year)``) pairs from a seeded sample of ``samples``."""
    chosen = [s for s in samples if any(g in recommender.catalog for g in s.gold)]
    chosen = random.Random(seed).sample(chosen, min(limit, len(chosen)))
    rows = recommender.retriever.rank([s.context for s in chosen], k=RETRIEVED)
    pairs = []
    for sample, row in tqdm(list(zip(chosen, rows)), desc="LoRA prompts", disable=not progress):
        documents = [item for item, _ in row[: recommender.config.kb_documents]]
        gold = next(g for g in sample.gold if g in recommender.catalog)
        pairs.append((recommender.prompt(sample.context, documents).text, recommender.catalog[gold].display))
    return pairs

"""Recommendation samples under the protocols of PROTOCOLS.md.

- ``std``: one sample per recommender turn that mentions at least one catalogue movie and has an earlier turn;
  gold = every movie mentioned in that turn.
- ``dedup``: as ``std``, but gold = movies not mentioned in any earlier turn; samples left without gold are dropped.

Sample id: ``"<dialogue id>:<turn index>"`` (ReDial: conversationId; INSPIRED: line index in the file, from 0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from llmkb.data.records import RECOMMENDER, Dialogue, Sample

PROTOCOLS = ("std", "dedup")


def build_samples(dialogues: Iterable[Dialogue], protocol: str = "std") -> list[Sample]:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    samples = []
    for dialogue in dialogues:
        earlier: set[str] = set()
        for index, turn in enumerate(dialogue.turns):
            if turn.role == RECOMMENDER and turn.items and index > 0:
                gold = turn.items if protocol == "std" else tuple(i for i in turn.items if i not in earlier)
                if gold:
                    samples.append(Sample(f"{dialogue.dialogue_id}:{index}", dialogue.dialogue_id, index,
                                          dialogue.turns[:index], gold, gold_turn=turn))
            earlier.update(turn.items)
    return samples


def mention_counts(dialogues: Iterable[Dialogue]) -> Counter:
    """Item → number of turns that mention it (use training dialogues only: counts feed popularity)."""
    return Counter(item for dialogue in dialogues for turn in dialogue.turns for item in turn.items)


def by_mentions(catalog: Iterable[str], dialogues: Iterable[Dialogue]) -> list[str]:
    """The catalogue ids by how often ``dialogues`` mention them, most first (ties by id, so it is deterministic)."""
    counts = mention_counts(dialogues)
    return sorted(catalog, key=lambda item: (-counts[item], item))


def count_pairs(samples: Iterable[Sample]) -> int:
    return sum(len(sample.gold) for sample in samples)

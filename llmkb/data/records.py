"""Plain records passed between stages: catalogue items, dialogues, turns and recommendation samples.

Item ids are strings in both datasets: ReDial movie ids as in ``movies_with_mentions.csv`` (``"111776"``),
INSPIRED DBpedia URIs as in ``entity2id.json`` (``"<http://dbpedia.org/resource/Knives_Out>"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

SEEKER = "seeker"
RECOMMENDER = "recommender"


@dataclass(frozen=True)
class CatalogItem:
    item_id: str
    title: str  # without the year, e.g. "Police Academy"
    year: int | None = None

    @property
    def display(self) -> str:
        """``"Title (Year)"``, or the bare title when the year is unknown."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True)
class Turn:
    role: str  # SEEKER or RECOMMENDER
    text: str  # movie markers already replaced by titles
    items: tuple[str, ...] = ()  # catalogue ids mentioned in this turn, in order of first appearance


@dataclass(frozen=True)
class Dialogue:
    dialogue_id: str
    turns: tuple[Turn, ...]
    source: str = ""  # file the dialogue came from
    # ReDial's questionnaires: movie id → {"liked": 0/1/2, "seen": 0/1/2} (0 no, 1 yes, 2 did not say), as the
    # seeker answered them ("initiator") and as the recommender did ("respondent"); empty elsewhere
    questionnaires: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Sample:
    """One recommendation sample: predict ``gold`` from ``context`` (the turns before the gold turn)."""

    sample_id: str  # "<dialogue id>:<turn index>"
    dialogue_id: str
    turn_index: int
    context: tuple[Turn, ...]
    gold: tuple[str, ...]
    gold_turn: Turn | None = field(default=None, compare=False)  # the target turn; for training only, never shown to a system

    @property
    def mentioned(self) -> tuple[str, ...]:
        """Catalogue ids mentioned anywhere in the context, most recent first, without repeats."""
        return tuple(mentioned_items(self.context))


def mentioned_items(context: Sequence[Turn]) -> list[str]:
    """Catalogue ids mentioned in ``context``, most recent first, without repeats."""
    return list(dict.fromkeys(item for turn in reversed(context) for item in reversed(turn.items)))

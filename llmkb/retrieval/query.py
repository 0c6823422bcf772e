"""The user representation: a query text built from the dialogue context and what the dictionaries detect in it.

Parts (each switchable in :class:`QueryConfig`, so an ablation can show what it adds):
- ``mentions``: movies mentioned so far, most recent first, with the seeker's stated feeling where the text says so;
- ``preferences``: genres, people and other KG values named in the dialogue (found with the mapping dictionaries);
- ``dialogue``: the most recent turns with their roles, newest first, bounded in turns and words.
Recent information comes first so that the encoder's length limit truncates the oldest.

:meth:`QueryBuilder.state` reads a dialogue once into a :class:`TurnState` (mentioned movies, preferences, query)
that every later stage of a turn uses.

>>> pref = Preference("music composer", "John Williams")
>>> str(pref), pref.value
('music composer John Williams', 'John Williams')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmkb.data.records import SEEKER, CatalogItem, Turn, mentioned_items
from llmkb.data.dataset import Dataset
from llmkb.kb.dictionaries import MappingDictionaries, build_dictionaries

NEGATIVE = re.compile(r"\b(didn'?t|did not|don'?t|do not|not a fan|hate[ds]?|dislike[ds]?|boring|awful|terrible|"
                      r"wasn'?t|isn'?t|worst|overrated|couldn'?t stand)\b", re.I)
POSITIVE = re.compile(r"\b(lov(e|ed|es)|lik(e|ed|es)|enjoy(ed)?|great|favou?rite|awesome|amazing|good|fun|best)\b", re.I)
DETECTED_RELATIONS = ("genre", "director", "starring", "writer", "music composer")
MAX_NGRAM = 4
MAX_PREFERENCES = 12


@dataclass(frozen=True)
class Preference:
    """A dictionary value the seeker named, with its KG relation (``relation`` may have several words)."""

    relation: str
    value: str

    def __str__(self) -> str:
        return f"{self.relation} {self.value}"


@dataclass(frozen=True)
class TurnState:
    """What one dialogue says, read once: every stage of a turn uses it instead of reading the dialogue again."""

    turns: tuple[Turn, ...]
    mentioned: tuple[str, ...]  # catalogue ids named so far, most recent first
    preferences: tuple[Preference, ...]  # dictionary values named in the seeker's turns
    query: str  # the retriever's user representation


@dataclass(frozen=True)
class QueryConfig:
    mentions: bool = True
    sentiment: bool = True
    preferences: bool = True
    dialogue: bool = True
    roles: bool = True
    max_turns: int = 6
    max_words: int = 160

    @classmethod
    def parse(cls, spec: str) -> "QueryConfig":
        """``"mentions,dialogue"`` → only those parts on (``"all"`` for every part)."""
        if spec == "all":
            return cls()
        parts = {p.strip() for p in spec.split(",") if p.strip()}
        known = {"mentions", "sentiment", "preferences", "dialogue", "roles"}
        if parts - known:
            raise ValueError(f"unknown query parts {sorted(parts - known)}; choose from {sorted(known)} or 'all'")
        return cls(**{name: name in parts for name in known})


def feeling(text: str) -> str | None:
    """The seeker's stated feeling about what a turn mentions: "liked", "not liked", or None when unclear."""
    if NEGATIVE.search(text):
        return "not liked"
    return "liked" if POSITIVE.search(text) else None


class PreferenceDetector:
    """Finds dictionary values (genres, people, ...) in text by exact n-gram lookup, case-insensitively.

    Values that look the same ("Horror film", "horror") share a key; the shortest spelling wins, so queries do not
    depend on set order (which changes from process to process with Python's hash seed).
    """

    def __init__(self, dictionaries: MappingDictionaries, relations=DETECTED_RELATIONS, min_chars: int = 4):
        self.lookup: dict[str, tuple[str, str]] = {}
        for relation in relations:
            for value in sorted(dictionaries.values_of(relation), key=lambda v: (len(v), v)):
                key = re.sub(r"\s+film$", "", value.lower()).strip()
                if len(key) >= min_chars:
                    self.lookup.setdefault(key, (relation, value))

    def detect(self, text: str) -> list[tuple[str, str]]:
        words = re.findall(r"[\w'.-]+", text.lower())
        found: dict[tuple[str, str], None] = {}
        for n in range(MAX_NGRAM, 0, -1):
            for i in range(len(words) - n + 1):
                hit = self.lookup.get(" ".join(words[i:i + n]))
                if hit:
                    found.setdefault(hit, None)
        return list(found)


class QueryBuilder:
    """The user representation of a dialogue, and its :class:`TurnState`.

    >>> from llmkb.data import load_dataset
    >>> builder = QueryBuilder.for_dataset(load_dataset("redial", data_dir))
    >>> state = builder.state([Turn(SEEKER, "I loved Toy Story (1995), anything with Tom Hanks?", ("1001",))])
    >>> state.mentioned, [str(p) for p in state.preferences]
    (('1001',), ['starring Tom Hanks'])
    >>> state.query
    'Movies: Toy Story (1995) (liked) . Likes: starring Tom Hanks . Dialogue: Seeker: I loved Toy Story (1995), anything with Tom Hanks?'
    """

    def __init__(self, catalog: dict[str, CatalogItem], detector: PreferenceDetector | None,
                 config: QueryConfig = QueryConfig()):
        self.catalog, self.detector, self.config = catalog, detector, config

    @classmethod
    def for_dataset(cls, dataset: Dataset, config: QueryConfig = QueryConfig()) -> "QueryBuilder":
        return cls(dataset.catalog, PreferenceDetector(build_dictionaries(dataset)), config)

    def preferences(self, context: Sequence[Turn], limit: int = MAX_PREFERENCES) -> list[Preference]:
        """What the seeker's turns name from the dictionaries, e.g. ``[Preference("genre", "comedy")]``."""
        if self.detector is None:
            return []
        found = self.detector.detect(" ".join(t.text for t in context if t.role == SEEKER))
        return [Preference(relation, value) for relation, value in found[:limit]]

    def state(self, context: Sequence[Turn]) -> TurnState:
        """The dialogue read once: mentioned movies, preferences and the query built from them."""
        context = tuple(context)
        preferences = tuple(self.preferences(context))
        return TurnState(context, tuple(mentioned_items(context)), preferences, self._query(context, preferences))

    def build(self, context: Sequence[Turn]) -> str:
        """The query text for ``context`` (the retriever's user representation)."""
        return self._query(tuple(context), self.preferences(context))

    def _query(self, context: tuple[Turn, ...], preferences: Sequence[Preference]) -> str:
        c = self.config
        parts = []
        if c.mentions:
            feelings: dict[str, str | None] = {}
            for turn in reversed(context):
                for item in turn.items:
                    stated = feeling(turn.text) if c.sentiment and turn.role == SEEKER else None
                    if item not in feelings or (feelings[item] is None and stated):
                        feelings[item] = stated
            if feelings:
                parts.append("Movies: " + "; ".join(
                    self.catalog[i].display + (f" ({f})" if f else "") for i, f in feelings.items() if i in self.catalog))
        if c.preferences and preferences:
            parts.append("Likes: " + "; ".join(map(str, preferences)))
        if c.dialogue:
            turns = [f"{t.role.capitalize()}: {t.text}" if c.roles else t.text for t in reversed(context[-c.max_turns:])]
            parts.append("Dialogue: " + " | ".join(turns))
        words = " . ".join(parts).split()
        return " ".join(words[: c.max_words])

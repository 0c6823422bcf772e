"""The KB's facts as mapping dictionaries: (relation, value) → the catalogue items that hold it, and back.

:class:`FactIndex` is built from the KB documents, so it knows exactly what the KB says: the people of each role,
genres, studios, countries, languages, the series titles name, and each item's year. Linked preferences are
checked against it, so a card never claims a fact its KB document lacks.

>>> from llmkb.kb.documents import KBDocument
>>> index = FactIndex.from_documents([
...     KBDocument("1", "Goodfellas", 1990, {"director": ["Martin Scorsese"], "genre": ["Crime film", "drama"]}),
...     KBDocument("2", "Heat", 1995, {"director": ["Michael Mann"], "genre": ["crime"]})])
>>> sorted(index.items_for(Preference("genre", "crime")))
['1', '2']
>>> index.satisfies("1", Preference("year", "1990s", years=(1990, 1999)))
True
>>> [describe(p) for p in index.matched("1", [Preference("person", "Martin Scorsese")])]
['directed by Martin Scorsese']
>>> wanted = [Preference("genre", "drama", turn=0), Preference("genre", "crime", turn=2)]
>>> index.match_scores(["1", "2"], wanted), index.candidates(wanted, {"2": 1.0}, limit=5)
([1.0, 0.6666666666666666], ['1', '2'])
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from llmkb.kb.documents import KBDocument
from llmkb.kb.series import title_series

CACHED_PREFERENCES = 4096
PEOPLE = ("director", "starring", "writer", "music composer", "producer")
RELATION_ALIASES = {"composer": "music composer"}  # the two KGs name one relation two ways
OTHER = ("country", "language", "production company", "distributor", "previous work", "subsequent work", "author",
         "narrator")  # further KG values a user may name (studio, country, language, series, based-on)
COMPANIES = ("production company", "distributor", "company")  # each also gives the item a "studio" (see studio())
COMPANY_WORDS = frozenset(
    "studios studio pictures picture entertainment enterprises films film animation productions production company "
    "television home video motion distribution releasing media classics movies group inc ltd co llc feature cinema "
    "bros brothers domestic international worldwide platform distributors corporation filmed".split())
GENRE_ALIASES = {  # KB spellings → one key per genre
    "science fiction": "sci-fi", "animated": "animation", "biographical": "biography", "war film": "war",
    "romance film": "romance", "romantic": "romance", "film noir": "film-noir", "historical": "history",
    "sports": "sport", "musical film": "musical", "superhero": "superhero", "comedy-drama": "comedy-drama",
}
PHRASES = {"director": "directed by {}", "starring": "stars {}", "writer": "written by {}",
           "music composer": "music by {}", "producer": "produced by {}", "genre": "{} film",
           "year": "from {}", "production company": "made by {}", "distributor": "released by {}",
           "previous work": "follows {}", "subsequent work": "followed by {}", "author": "based on the work of {}",
           "narrator": "narrated by {}", "studio": "a {} film", "series": "part of the {} series"}


@dataclass(frozen=True)
class Preference:
    """Something the seeker asked for or ruled out: a KB value of a relation ("director", "genre", ...), a span of
    years (relation "year"), a catalogue movie (relation "movie", value = its id), or a person in any role
    (relation "person"). ``polarity`` is +1 for wanted, -1 for disliked; ``turn`` and ``span`` locate the words."""

    relation: str
    value: str
    polarity: int = 1
    turn: int = -1  # index of the dialogue turn it was said in (-1: unknown)
    span: tuple[int, int] = (0, 0)  # character offsets in that turn's text
    years: tuple[int, int] | None = None  # for relation "year": first and last year, inclusive
    relative: bool = False  # said against the movies just shown ("something more recent"), refining the request

    def __str__(self) -> str:
        return f"{'not ' if self.polarity < 0 else ''}{self.relation} {self.value}"

    @property
    def key(self) -> tuple[str, str, int]:
        """What makes two preferences the same, wherever they were said."""
        return self.relation, value_key(self.relation, self.value), self.polarity


def fold(text: str) -> str:
    """Lower case without accents or punctuation runs: ``"Pedro Almodóvar"`` → ``"pedro almodovar"``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.replace("'s ", " ")))


def value_key(relation: str, value: str) -> str:
    """How a value is looked up: folded, without a trailing "film", genres under one spelling."""
    key = re.sub(r"\s+films?$", "", fold(value))
    return GENRE_ALIASES.get(key, GENRE_ALIASES.get(fold(value), key)) if relation == "genre" else key


def studio(company: str) -> str:
    """The name people call a company by: no leading "The" or "Walt", and nothing from its first company word on
    ("Studios", "Pictures", "Bros.", ...). Every company fact of an item also gives it this "studio" fact, so "not
    from Marvel" rules out Marvel Studios' and Marvel Entertainment's films alike.

    >>> [studio(c) for c in ("Walt Disney Studios Motion Pictures", "Studio Ghibli", "Warner Bros.", "A24")]
    ['Disney', 'Ghibli', 'Warner', 'A24']
    """
    words = company.split()
    while words and (fold(words[0]) in ("the", "walt") or fold(words[0]) in COMPANY_WORDS):
        words = words[1:]
    name = []
    for word in words:
        if fold(word) in COMPANY_WORDS:
            break
        name.append(word)
    return " ".join(name).rstrip(".,") or company


def describe(preference: Preference) -> str:
    """How a matched fact reads on a card: "directed by Martin Scorsese", "crime film", "from the 1990s"."""
    value = preference.value
    if preference.relation == "year" and value.startswith(("newer than", "older than")):
        return value
    if preference.relation == "year" and value.endswith("s"):
        value = f"the {value}"
    elif preference.relation == "genre":
        value = re.sub(r"\s+films?$", "", value, flags=re.I).lower()
    return PHRASES.get(preference.relation, preference.relation + ": {}").format(value)


class FactIndex:
    """(relation, value key) → items, each item's year, and the KB's spelling of each value."""

    def __init__(self, postings: dict[tuple[str, str], frozenset[str]], names: dict[tuple[str, str], str],
                 years: dict[str, int]):
        self.postings, self.names, self.years = postings, names, years
        self._cache: dict[tuple, frozenset[str]] = {}  # (relation, value, years) → the items holding it
        self._values: dict[str, Mapping[str, str]] = {}  # relation → :meth:`values`, read once per turn
        self.roles: dict[str, list[str]] = {}  # person key → their roles, most items first
        for relation, key in sorted(postings, key=lambda rk: -len(postings[rk])):
            if relation in PEOPLE:
                self.roles.setdefault(key, []).append(relation)

    @classmethod
    def from_documents(cls, documents: Iterable[KBDocument]) -> FactIndex:
        """The documents' facts, each company's studio (:func:`studio`) and the series their titles name
        (:func:`~llmkb.kb.series.title_series`)."""
        documents = list(documents)
        series = title_series({doc.item_id: doc.title for doc in documents})
        postings: dict[tuple[str, str], set[str]] = {}
        spellings: dict[tuple[str, str], Counter] = {}
        years: dict[str, int] = {}
        for doc in documents:
            if doc.year:
                years[doc.item_id] = int(doc.year)
            for relation, values in [*doc.facts.items(), ("series", series.get(doc.item_id, []))]:
                relation = RELATION_ALIASES.get(relation, relation)
                facts = [(relation, value) for value in values]
                facts += [("studio", studio(value)) for value in values] if relation in COMPANIES else []
                for fact_relation, value in facts:
                    key = value_key(fact_relation, value)
                    if key:
                        postings.setdefault((fact_relation, key), set()).add(doc.item_id)
                        spellings.setdefault((fact_relation, key), Counter())[value] += 1
        names = {rk: min(c, key=lambda v: (-c[v], v.lower() != v if rk[0] == "genre" else 0, len(v), v))
                 for rk, c in spellings.items()}
        return cls({rk: frozenset(items) for rk, items in postings.items()}, names, years)

    @property
    def relations(self) -> set[str]:
        return {relation for relation, _ in self.postings}

    def values(self, relation: str) -> Mapping[str, str]:
        """Value key → the KB's spelling, for one relation (read-only: it is made once)."""
        if relation not in self._values:
            self._values[relation] = MappingProxyType({key: self.names[(r, key)] for r, key in self.postings
                                                      if r == relation})
        return self._values[relation]

    def items_for(self, preference: Preference) -> frozenset[str]:
        """Every item that holds the preference's fact (whatever its polarity)."""
        return self._holders(preference.relation, preference.value, preference.years)

    def satisfies(self, item_id: str, preference: Preference) -> bool:
        """Whether the item holds the fact (ignoring polarity)."""
        return item_id in self._holders(preference.relation, preference.value, preference.years)

    def _holders(self, relation: str, value: str, years: tuple[int, int] | None) -> frozenset[str]:
        key = (relation, value, years)
        if key not in self._cache:
            if relation == "year":
                low, high = years or (0, 0)
                found = frozenset(item for item, year in self.years.items() if low <= year <= high)
            elif relation == "movie":
                found = frozenset({value})
            else:
                value = value_key(relation, value)
                relations = self.roles.get(value, ()) if relation == "person" else (relation,)
                found = frozenset().union(*(self.postings.get((r, value), ()) for r in relations))
            if len(self._cache) >= CACHED_PREFERENCES:
                self._cache.clear()
            self._cache[key] = found
        return self._cache[key]

    def matched(self, item_id: str, preferences: Sequence[Preference]) -> list[Preference]:
        """The wanted preferences the item satisfies, with a person's role made concrete (for explanations)."""
        found = []
        for p in preferences:
            if p.polarity > 0 and p.relation != "movie" and self.satisfies(item_id, p):
                if p.relation == "person":
                    key = value_key("person", p.value)
                    role = next(r for r in self.roles.get(key, ()) if item_id in self.postings[(r, key)])
                    p = replace(p, relation=role)
                found.append(p)
        return found

    def match_scores(self, items: Sequence[str], preferences: Sequence[Preference]) -> list[float]:
        """How well each item's facts satisfy the preferences (movies aside): the recency-weighted share of the wanted
        ones it holds, minus the recency weight of each unwanted one it holds. A preference's weight is
        1 / (1 + how many later turns stated preferences)."""
        stated = [p for p in preferences if p.relation != "movie"]
        turns = sorted({p.turn for p in stated}, reverse=True)
        weight = {p: 1.0 / (1 + turns.index(p.turn)) for p in stated}
        total = sum(w for p, w in weight.items() if p.polarity > 0) or 1.0
        terms = [(w * p.polarity / (total if p.polarity > 0 else 1.0), self._holders(p.relation, p.value, p.years))
                 for p, w in weight.items()]
        return [sum(term for term, holders in terms if item in holders) for item in items]

    def candidates(self, preferences: Sequence[Preference], popularity: Mapping[str, float],
                   limit: int) -> list[str]:
        """Up to ``limit`` items that hold wanted facts, best :meth:`match_scores` first, then most popular."""
        wanted = [p for p in preferences if p.polarity > 0 and p.relation != "movie"]
        pool = sorted(set().union(*(self.items_for(p) for p in wanted))) if wanted else []
        scored = [(score, item) for item, score in zip(pool, self.match_scores(pool, preferences)) if score > 0]
        scored.sort(key=lambda si: (-si[0], -popularity.get(si[1], 0.0), si[1]))
        return [item for _, item in scored[:limit]]

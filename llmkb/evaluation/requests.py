"""The request benchmark: explicit requests written from the KB, answered in one turn, scored against the KB's facts.

``llmkb evaluate-requests --dataset D`` runs :func:`evaluate_requests`. :func:`generate_requests` writes requests
from the KB alone (never from dialogues): a director, an actor, a genre or a decade ("movies from the 90s"); two of
them ("a scary movie with Sigourney Weaver"); a negation ("a comedy that is not animated"); "something like Heat
(1995) but from the 2000s"; a studio or a series, wanted or ruled out ("a comedy, nothing from the Scary Movie
franchise"). Studio and series names are typed as the KB writes them, even under ``noise``. What a request means
(``wanted``, ``unwanted``, ``like``) is fixed when it is written, whatever the linker later reads in its text. Each system answers it as a one-message dialogue, and an item of its
top 5 satisfies the request when its KB facts hold every wanted fact, none of the unwanted ones, and it is not the
``like`` movie. The report keeps every request with each system's top 5, so :func:`rescore` recomputes the numbers.
``noise`` types the requests as people do: lower case, and names and titles with seeded typos (:func:`misspell`).

>>> docs = {"1": KBDocument("1", "Heat", 1995, {"genre": ["Crime film"]}),
...         "2": KBDocument("2", "Fargo", 1996, {"genre": ["crime", "comedy"]})}
>>> facts = FactIndex.from_documents(docs.values())
>>> [(r.kind, r.text) for r in generate_requests(facts, docs, ["2", "1"], per_type=1, seed=0, min_items=2)][-1]
('genre+decade', "I'd love a crime movie made in the nineties")
>>> request = Request("negated", "a crime movie that is not funny", wanted=(Preference("genre", "crime"),),
...                   unwanted=(Preference("genre", "comedy", -1),))
>>> satisfied(facts, request, ["2", "1"]), precision(satisfied(facts, request, ["2", "1"]))
([False, True], 0.2)
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from llmkb.data.io import atomic_write_json
from llmkb.errors import LLMKBError
from llmkb.evaluation.harness import command_line
from llmkb.kb.documents import KBDocument
from llmkb.kb.facts import PEOPLE, FactIndex, Preference, fold, value_key
from llmkb.pipeline.config import RecommenderConfig

TOP = 5  # the list a request is judged on: precision@5 and hit@5
MIN_ITEMS = 5  # a value (or combination) is drawn when at least this many catalogue items satisfy it
GROUPS = {"single": ("director", "actor", "genre", "decade"),
          "two-attribute": ("genre+actor", "genre+decade", "director+actor"),
          "negated": ("negated",), "like-but": ("like-but",),
          "studio/series": ("studio", "series", "negated-studio", "negated-series")}
KINDS = tuple(kind for kinds in GROUPS.values() for kind in kinds)
VARIANTS = ("full", "no-kb-candidates", "no-kb-signal", "no-constraints", "no-kb", "dense-only")
PEOPLE_POOL = 3  # single-person requests draw from the PEOPLE_POOL × per_type most popular eligible people
PAIR_POOL = 300  # combinations draw from the most popular people of a role
LIKE_POOL = 100  # "like X": X among the most popular items (at least 4 × per_type)
LIKE_DECADES = 20  # "like X but from the D": D within this many years of X's decade
BOOTSTRAP = 1000  # resamples for the 95% interval of a group's precision@5

NOT_REQUESTED = {"short", "talk-show", "news", "reality-tv", "game-show", "sitcom"}  # KG genres nobody asks a CRS for
GENRE_SAYINGS = {  # genre key → how a request says it, plainest first (each is a word the linker knows)
    "sci-fi": ("sci-fi", "science fiction"), "animation": ("animated", "animation", "cartoon"),
    "horror": ("horror", "scary"), "comedy": ("comedy", "funny"), "romance": ("romance", "romantic"),
    "thriller": ("thriller", "suspenseful"), "biography": ("biography", "biopic"),
    "family": ("family", "family-friendly", "kids"), "history": ("history", "historical"), "sport": ("sports",),
    "film-noir": ("film-noir", "noir"),
}
EVERYDAY = 0.4  # how often a genre is said with an everyday word, when it has one
SURNAME = 0.3  # how often a person is named by surname alone, when it names them in the KB
LOWERCASE = 0.25  # how often a request is typed in lower case
GREETINGS = ("", "", "", "", "Hi! ", "Hey there! ", "Hello. ")
DECADE_WORDS = {1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties", 1960: "sixties",
                1970: "seventies", 1980: "eighties", 1990: "nineties"}
PARTICLES = {"de", "del", "della", "di", "da", "van", "von", "der", "den", "la", "le", "du", "st"}
TEMPLATES = {  # {p}, {q}: people; {g}, {g2}: genre words; {ag}, {ag2}: with "a"/"an"; {d}: a decade; {m}: a movie;
    # {s}: a studio or a series
    "director": ("Any good movies directed by {p}?", "I'd like something by {p}", "movies by {p} please",
                 "What are the best films by director {p}?", "Can you recommend a movie directed by {p}?"),
    "actor": ("I want a movie with {p}", "Any films starring {p}?", "Something with {p} in it, please",
              "Can you recommend a movie starring {p}?", "What should I watch with {p}?"),
    "genre": ("Can you recommend {ag} movie?", "I'm in the mood for {g} movies", "{g} films, please",
              "What's a great {g} film?", "Any good {g} movies?"),
    "decade": ("movies from the {d}", "Something made in the {d}?", "I'd like a film from the {d}",
               "Any good movies from the {d}?", "What's a great movie from the {d}?"),
    "genre+actor": ("I want {ag} movie with {p}", "Any {g} films starring {p}?",
                    "Can you suggest {ag} movie with {p} in it?", "{g} movies with {p}, please"),
    "genre+decade": ("{ag} movie from the {d}", "Any good {g} films from the {d}?",
                     "I'd love {ag} movie made in the {d}", "What are some {g} movies from the {d}?"),
    "director+actor": ("A film directed by {p} with {q}", "Any movies by {p} starring {q}?",
                       "I'd like something directed by {p} with {q} in it", "What has {q} done with director {p}?"),
    "negated-genre": ("{ag} movie that is not {g2}", "{g} movies, but nothing {g2}", "I want {ag} film, not {ag2} one",
                      "Any {g} movies? Nothing {g2} though"),
    "negated-decade": ("{ag} movie, but not from the {d}", "{g} films that aren't from the {d}",
                       "I'd like {ag} movie, nothing from the {d}"),
    "negated-person": ("{ag} movie without {p}", "{g} films, but nothing with {p}", "I want {ag} movie, no {p} please"),
    "like-decade": ("Something like {m} but from the {d}", "I loved {m}. Anything similar from the {d}?",
                    "Movies like {m}, but made in the {d}"),
    "like-genre": ("Something like {m}, but {ag} movie", "I loved {m}. Is there {ag} movie like it?",
                   "Movies like {m}, but {g} ones"),
    "studio": ("Any good movies from {s}?", "I'd like a {s} film", "Something made by {s}, please",
               "What's the best {s} movie?"),
    "series": ("Any {s} movies?", "I'd like to watch one of the {s} films", "Which {s} movie should I see?",
               "Anything from the {s} franchise?"),
    "negated-studio": ("{ag} movie that is not from {s}", "{g} films, but nothing from {s}",
                       "I want {ag} movie, no {s} please"),
    "negated-series": ("{ag} movie, but not one of the {s} films", "{g} movies, nothing from the {s} franchise",
                       "I want {ag} film that isn't a {s} movie"),
}


@dataclass(frozen=True)
class Request:
    """One explicit request: its text, and what it means (``like``: the item id of "like X but ...")."""

    kind: str
    text: str
    wanted: tuple[Preference, ...]
    unwanted: tuple[Preference, ...] = ()
    like: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text, "wanted": [fact_text(p) for p in self.wanted],
                "unwanted": [fact_text(p) for p in self.unwanted], "like": self.like}

    @classmethod
    def from_json(cls, row: Mapping) -> Request:
        return cls(row["kind"], row["text"], tuple(parse_fact(t) for t in row["wanted"]),
                   tuple(parse_fact(t, -1) for t in row["unwanted"]), row.get("like"))


def fact_text(preference: Preference) -> str:
    """A fact as the report writes it; :func:`parse_fact` reads it back.

    >>> fact_text(Preference("year", "1990s", years=(1990, 1999))), parse_fact("year: 1990s").years
    ('year: 1990s', (1990, 1999))
    """
    if preference.relation == "year" and preference.years != _decade_span(preference.value):
        return "year: {}-{}".format(*(preference.years or (0, 0)))
    return f"{preference.relation}: {preference.value}"


def parse_fact(text: str, polarity: int = 1) -> Preference:
    relation, sep, value = text.partition(": ")
    if not sep or not value:
        raise LLMKBError(f"cannot read the fact {text!r}: expected 'relation: value' (as the request benchmark's "
                         "report writes it); fix the report row or write the report again")
    if relation != "year":
        return Preference(relation, value, polarity)
    span = _decade_span(value)
    if span is None and re.fullmatch(r"\d{4}-\d{4}", value):
        span = (int(value[:4]), int(value[5:]))
    if span is None:
        raise LLMKBError(f"cannot read the years of {text!r}: expected a decade ('1990s') or a span ('1990-1999')")
    return Preference("year", value, polarity, years=span)


def _decade_span(label: str) -> tuple[int, int] | None:
    return (int(label[:4]), int(label[:4]) + 9) if re.fullmatch(r"\d{3}0s", label) else None


def decade(start: int) -> Preference:
    return Preference("year", f"{start}s", years=(start, start + 9))


# --- scoring ------------------------------------------------------------------------------------------------------

def satisfies(facts: FactIndex, request: Request, item: str) -> bool:
    """The item holds every wanted fact, none of the unwanted ones, and is not the request's ``like`` movie."""
    return item != request.like and all(facts.satisfies(item, p) for p in request.wanted) and \
        not any(facts.satisfies(item, p) for p in request.unwanted)


def satisfied(facts: FactIndex, request: Request, ranked: Sequence[str], k: int = TOP) -> list[bool]:
    """Per item of the top ``k``, whether it satisfies the request."""
    return [satisfies(facts, request, item) for item in ranked[:k]]


def satisfiable(facts: FactIndex, request: Request, items: Iterable[str]) -> int:
    """How many of ``items`` (the catalogue) satisfy the request."""
    return sum(satisfies(facts, request, item) for item in items)


def precision(hits: Sequence[bool], k: int = TOP) -> float:
    """The share of the top ``k`` that satisfy (a list shorter than ``k`` counts its missing places as misses)."""
    return sum(hits[:k]) / k


def _cell(rows: Sequence[Mapping], variant: str, interval: bool) -> dict:
    values = np.array([precision(row["systems"][variant]["satisfied"]) for row in rows])
    if not len(values):
        return {"requests": 0}
    cell = {"requests": len(values), "precision@5": round(float(values.mean()), 4),
            "hit@5": round(float(np.mean([any(row["systems"][variant]["satisfied"]) for row in rows])), 4)}
    if interval:
        means = values[np.random.default_rng(0).integers(0, len(values), (BOOTSTRAP, len(values)))].mean(axis=1)
        cell["precision@5 95% CI"] = [round(float(x), 4) for x in np.percentile(means, [2.5, 97.5])]
    return cell


def metrics(rows: Sequence[Mapping], variant: str, min_satisfiable: int = MIN_ITEMS) -> dict:
    """Precision@5 and hit@5 of one variant, overall, per group and per kind, over every request ("all") and over
    those at least ``min_satisfiable`` catalogue items satisfy ("satisfiable", the headline); a bootstrap 95%
    interval of precision@5 overall and per group."""
    out = {}
    for subset, kept in (("satisfiable", [r for r in rows if r["satisfiable"] >= min_satisfiable]), ("all", rows)):
        out[subset] = {
            "overall": _cell(kept, variant, True),
            "groups": {g: _cell([r for r in kept if r["kind"] in kinds], variant, True) for g, kinds in GROUPS.items()},
            "kinds": {kind: _cell([r for r in kept if r["kind"] == kind], variant, False) for kind in KINDS}}
    return out


def rescore(report: Mapping, facts: FactIndex) -> dict[str, dict]:
    """Each variant's metrics recomputed from a report's rows (their requests and top-5 ids) and the KB's facts."""
    min_satisfiable = report["generation"]["min_items"]
    rows = []
    for row in report["rows"]:
        request = Request.from_json(row)
        systems = {v: {**s, "satisfied": satisfied(facts, request, s["top"])} for v, s in row["systems"].items()}
        rows.append({**row, "systems": systems})
    return {variant: metrics(rows, variant, min_satisfiable) for variant in report["variants"]}


def understood(request: Request, preferences: Sequence[Preference], mentioned: Sequence[str]) -> bool:
    """Whether the linker read what the request means: each wanted and unwanted fact with its polarity (a person in
    any role matches a role), and the ``like`` movie among the mentioned ones. Extra facts are not held against it."""
    people = {*PEOPLE, "person"}

    def reads(p: Preference, q: Preference) -> bool:
        if p.polarity != q.polarity or (p.relation == "year") != (q.relation == "year"):
            return False
        if p.relation == "year":
            return p.years == q.years
        roles = {p.relation, q.relation}
        same_role = len(roles) == 1 or "person" in roles and roles <= people
        return same_role and value_key(p.relation, p.value) == value_key(q.relation, q.value)

    meant = [*request.wanted, *request.unwanted]
    return all(any(reads(p, q) for q in preferences) for p in meant) and \
        (request.like is None or request.like in mentioned)


# --- generation ---------------------------------------------------------------------------------------------------

def generate_requests(facts: FactIndex, documents: Mapping[str, KBDocument], popularity: Sequence[str],
                      per_type: int, seed: int, min_items: int = MIN_ITEMS, noise: float = 0.0) -> list[Request]:
    """``per_type`` requests of each kind (fewer where the KB holds fewer), written from the KB's facts only.

    Values are drawn among those at least ``min_items`` catalogue items hold; combinations among those whose items
    intersect in at least ``min_items``, and negations among those that rule out at least ``min_items`` of the wanted
    items and leave as many (then the largest ones, where too few do). People are drawn among the most popular (by
    the training popularity of their items: ``popularity`` lists catalogue ids, most mentioned first); "like X" among
    the most popular items. Each draw prefers the values used least so far. The same seed writes the same requests.
    noise: the share of name and title words ≥ 4 letters that get one typo, with every request in lower case; the
    typos come from their own seeded generator, so the requests are the same ones as without noise, typed noisily."""
    rng = random.Random(seed)
    writer = _Writer(facts, rng, random.Random(f"noise-{seed}") if noise else None, noise)
    rank = {item: i for i, item in enumerate(popularity)}
    weight = {item: 1 / math.log2(i + 2) for item, i in rank.items()}
    catalogue = set(documents)

    def holders(p: Preference) -> frozenset[str]:
        return frozenset(facts.items_for(p) & catalogue)

    def popular(relation: str) -> list[Preference]:
        score = {key: sum(weight.get(i, 0.0) for i in facts.postings[(relation, key)])
                 for key in facts.values(relation)}
        names = facts.values(relation)
        return [Preference(relation, names[key]) for key in sorted(score, key=lambda key: (-score[key], key))]

    genres = [Preference("genre", name) for key, name in sorted(facts.values("genre").items())
              if key not in NOT_REQUESTED and len(holders(Preference("genre", name))) >= min_items]
    decades = [decade(start) for start in sorted({year // 10 * 10 for year in facts.years.values()})]
    decades = [d for d in decades if len(holders(d)) >= min_items]
    items = {p: holders(p) for p in genres + decades}
    directors, actors = popular("director"), popular("starring")
    for p in directors[:PAIR_POOL] + actors[:PAIR_POOL]:
        items[p] = holders(p)
    pool = max(PEOPLE_POOL * per_type, 10)
    top_directors = [p for p in directors if len(items.get(p, ())) >= min_items][:pool]
    top_actors = [p for p in actors if len(items.get(p, ())) >= min_items][:pool]

    def pairs(first: Sequence[Preference], second: Sequence[Preference]) -> list[tuple[int, tuple]]:
        return [(len(items[a] & items[b]), (a, b)) for a in first for b in second if a.value != b.value]

    def negations(first: Sequence[Preference], second: Sequence[Preference]) -> list[tuple[int, tuple]]:
        """Wanted a, unwanted b: b rules out some of a's items and leaves some (sized by the fewer of the two)."""
        return [(min(len(items[a] & items[b]), len(items[a] - items[b])), (a, b)) for a in first for b in second
                if a.value != b.value]

    requests: list[Request] = []
    for kind, options in (("director", [(len(items[p]), (p,)) for p in top_directors]),
                          ("actor", [(len(items[p]), (p,)) for p in top_actors]),
                          ("genre", [(len(items[p]), (p,)) for p in genres]),
                          ("decade", [(len(items[p]), (p,)) for p in decades]),
                          ("genre+actor", pairs(genres, actors[:PAIR_POOL])),
                          ("genre+decade", pairs(genres, decades)),
                          ("director+actor", pairs(directors[:PAIR_POOL], actors[:PAIR_POOL]))):
        for chosen in _varied(rng, _satisfiable_first(options, per_type, min_items), per_type):
            requests.append(writer.write(kind, chosen))
    shares = [per_type - 2 * (per_type // 3), per_type // 3, per_type // 3]
    for (variant, options), n in zip((("genre", negations(genres, genres)), ("decade", negations(genres, decades)),
                                      ("person", negations(genres, top_actors + top_directors))), shares):
        for chosen in _varied(rng, _satisfiable_first(options, n, min_items), n):
            requests.append(writer.write("negated", chosen, variant))
    liked = [i for i in popularity if i in documents][:max(LIKE_POOL, 4 * per_type)]
    like_decades = [(len(items[d]), (i, d)) for i in liked for d in decades
                    if i in facts.years and 0 < abs(d.years[0] - facts.years[i] // 10 * 10) <= LIKE_DECADES]
    like_genres = [(len(items[g]), (i, g)) for i in liked for g in genres if i not in items[g]]
    for (variant, options), n in zip((("decade", like_decades), ("genre", like_genres)),
                                     (per_type - per_type // 2, per_type // 2)):
        for chosen in _varied(rng, _satisfiable_first(options, n, min_items), n):
            requests.append(writer.write("like-but", chosen, variant, documents[chosen[0]].display))
    for relation in ("studio", "series"):  # drawn last, so the requests above stay those of earlier versions
        values = popular(relation)[:PAIR_POOL]
        items.update((p, holders(p)) for p in values)
        for chosen in _varied(rng, _satisfiable_first([(len(items[p]), (p,)) for p in values], per_type, min_items),
                              per_type):
            requests.append(writer.write(relation, chosen))
        for chosen in _varied(rng, _satisfiable_first(negations(genres, values), per_type, min_items), per_type):
            requests.append(writer.write(f"negated-{relation}", chosen))
    return requests


def _satisfiable_first(options: list[tuple[int, tuple]], n: int, min_items: int) -> list[tuple]:
    """The options at least ``min_items`` items satisfy; where fewer than ``n`` do, the largest others (non-empty)."""
    enough = [option for size, option in options if size >= min_items]
    if len(enough) >= n:
        return enough
    rest = sorted((o for o in options if 0 < o[0] < min_items), key=lambda o: -o[0])
    return enough + [option for _, option in rest[:n - len(enough)]]


def _varied(rng: random.Random, options: Sequence[tuple[Hashable, ...]], n: int) -> list[tuple]:
    """``n`` options in random order, each preferring the values (option components) used least so far; options are
    used again only when all have been used (the rounds reshuffle)."""
    chosen: list[tuple] = []
    used: Counter = Counter()
    while options and len(chosen) < n:
        pool = list(options)
        rng.shuffle(pool)
        while pool and len(chosen) < n:
            best = min(range(len(pool)), key=lambda i: sum(used[c] for c in pool[i]))
            option = pool.pop(best)
            chosen.append(option)
            used.update(option)
    return chosen


class _Writer:
    """The words of a request: a template of its kind, filled with the values as a user would say them."""

    def __init__(self, facts: FactIndex, rng: random.Random, typos: random.Random | None = None, noise: float = 0.0):
        self.rng, self.typos, self.noise = rng, typos, noise
        people: dict[str, int] = {}
        for relation in PEOPLE:
            for key, name in facts.values(relation).items():
                people[name] = people.get(name, 0) + len(facts.postings[(relation, key)])
        self.surnames: dict[str, str] = {}  # surname key → the person with the most items of that surname
        for name in sorted(people, key=lambda n: (-people[n], n)):
            surname = _surname(name)
            if surname:
                self.surnames.setdefault(fold(surname), name)

    def write(self, kind: str, values: tuple, variant: str = "", movie: str = "") -> Request:
        template = self.rng.choice(TEMPLATES[f"{kind.split('-')[0]}-{variant}" if variant else kind])
        fill: dict[str, str] = {"m": movie}
        wanted, unwanted, like = list(values), [], None
        if kind.startswith("negated"):
            ruled_out = Preference("person", values[1].value) if variant == "person" else values[1]  # any role
            wanted, unwanted = [values[0]], [dataclasses.replace(ruled_out, polarity=-1)]
        elif kind == "like-but":
            like, wanted = values[0], [values[1]]
        for p in [*wanted, *unwanted]:  # in the order the templates name them: {g} before {g2}, {p} before {q}
            if p.relation == "genre":
                word, second = self._genre(p.value), "2" if "g" in fill else ""
                fill.update({f"g{second}": word, f"ag{second}": f"{_article(word)} {word}"})
            elif p.relation == "year":
                fill["d"] = self._decade(p.years[0])
            elif p.relation in ("studio", "series"):
                fill["s"] = re.sub(r"^the\s+", "", p.value, flags=re.I)  # "the Hunger Games films"
            else:
                fill["q" if "p" in fill else "p"] = self._person(p.value)
        if self.typos is not None:  # names and titles typed with typos ("(1995)" stays as written)
            fill = {k: v if k not in "pqm" else re.sub(r"^[^(]+", lambda t: misspell(t.group(), self.typos, self.noise), v)
                    for k, v in fill.items()}
        text = template.format(**fill)
        text = self.rng.choice(GREETINGS) + text[0].upper() + text[1:]
        text = text.lower() if self.rng.random() < LOWERCASE or self.typos is not None else text
        return Request(kind, text, tuple(wanted), tuple(unwanted), like)

    def _genre(self, name: str) -> str:
        key = value_key("genre", name)
        words = GENRE_SAYINGS.get(key, (re.sub(r"\s+films?$", "", name, flags=re.I).lower(),))
        return self.rng.choice(words[1:]) if len(words) > 1 and self.rng.random() < EVERYDAY else words[0]

    def _decade(self, start: int) -> str:
        forms = [f"{start}s"]
        if start in DECADE_WORDS:
            forms += [f"{start % 100}s", DECADE_WORDS[start]]
        return self.rng.choices(forms, weights=[5, 3, 2][:len(forms)])[0]

    def _person(self, name: str) -> str:
        surname = _surname(name)
        use = surname and self.surnames.get(fold(surname)) == name and self.rng.random() < SURNAME
        return surname if use else name


TYPOS = ("transpose", "substitute", "drop", "double")
NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", ("wa", "qes", "wrd", "etf", "ryg", "tuh", "yij", "uok", "ipl", "ol",
                                                     "qsz", "adwx", "sfec", "dgrv", "fhtb", "gjyn", "hkum", "jli", "kop",
                                                     "xas", "zcsd", "xvdf", "cbfg", "vnhg", "bmjh", "njk")))


def misspell(words: str, rng: random.Random, share: float = 1.0) -> str:
    """``words`` with one typo in each word of 4 or more letters, with probability ``share``: two letters swapped, a
    letter hit by a neighbouring key, one dropped or one doubled (never the first letter, which people rarely miss).

    >>> misspell("Leonardo DiCaprio", random.Random(3))
    'Leohardo DiCapiro'
    """
    def typo(match: re.Match) -> str:
        word = match.group()
        if len(word) < 4 or rng.random() >= share:
            return word
        kind, at = rng.choice(TYPOS), rng.randrange(1, len(word) - 1)
        if kind == "transpose":
            return word[:at] + word[at + 1] + word[at] + word[at + 2:]
        if kind == "substitute":
            keys = NEIGHBOURS.get(word[at].lower(), "e")
            return word[:at] + rng.choice(keys) + word[at + 1:]
        if kind == "drop":
            return word[:at] + word[at + 1:]
        return word[:at] + word[at] + word[at:]

    return re.sub(r"[A-Za-z]+", typo, words)


def _surname(name: str) -> str | None:
    """The surname a user would say alone ("Shyamalan", "del Toro"); None when the name has none ("Coen brothers")."""
    words = name.split()
    if len(words) < 2 or not words[-1][:1].isupper() or words[-1].rstrip(".").lower() in {"jr", "sr", "ii", "iii"}:
        return None
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in PARTICLES:
        start -= 1
    surname = " ".join(words[start:])
    return surname if len(surname) >= 4 else None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# --- running the systems --------------------------------------------------------------------------------------------

def variant_changes(weights_file: Path) -> dict[str, dict]:
    """What each recommender variant changes in the full system's config (``weights_file``: the full system's
    weights with ``kb_match`` 0). ``no-kb`` is the recommender as it was before the KB: all three off."""
    return {"full": {}, "no-kb-candidates": {"kb_candidates": False}, "no-kb-signal": {"weights": weights_file},
            "no-constraints": {"constraints": False},
            "no-kb": {"kb_candidates": False, "constraints": False, "weights": weights_file}}


def parse_variants(text: str) -> list[str]:
    """``"all"`` or a comma list of :data:`VARIANTS`, in that order."""
    names = VARIANTS if text == "all" else [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise LLMKBError(f"unknown variant(s) {', '.join(unknown) or '(none given)'} in --variants {text!r}; "
                         f"choose 'all' or a comma list of {', '.join(VARIANTS)}")
    return [v for v in VARIANTS if v in names]


def dense_top(stages, text: str, k: int = TOP) -> list[str]:
    """The dense retriever's top ``k`` for the one-message dialogue ``text``, the movies it names excluded."""
    turns = stages.reader([], text).turns
    state = stages.states([turns])[0]
    excluded = set(stages.mentioned_twins(state))
    row = stages.retriever.search([state.query], k=k + len(excluded))[0]
    return [item for item, _ in row if item not in excluded][:k]


def run_variants(config: RecommenderConfig, variants: Sequence[str], requests: Sequence[Request], base=None,
                 progress: bool = True) -> tuple[dict[str, list[list[str]]], dict[str, dict], list[dict]]:
    """Each variant's top ``TOP`` ids per request, what each variant ran with, and how the full system read each
    request (its linked preferences). ``base``: the full system's Recommender, when already loaded."""
    from llmkb.pipeline import Recommender

    base = base or Recommender(config, progress=progress)
    tops: dict[str, list[list[str]]] = {}
    setups: dict[str, dict] = {}
    readings = []
    for request in tqdm(requests, desc="full", unit="request", disable=not progress):
        out = base.respond([], request.text, reply=False)
        readings.append({"linked": [str(p) for p in out.preferences], "mentioned": list(out.turns[0].items),
                         "understood": understood(request, out.preferences, out.turns[0].items)})
        if "full" in variants:
            tops.setdefault("full", []).append([r.item.item_id for r in out.items][:TOP])
    with tempfile.TemporaryDirectory() as scratch:
        weights_file = Path(scratch) / "weights-without-kb-match.json"
        dataclasses.replace(base.ranking, kb_match=0.0).save(
            weights_file, derived_from=str(config.weights) if config.weights else "the built-in weights",
            change="kb_match set to 0")
        changes = variant_changes(weights_file)
        for variant in variants:
            if variant == "dense-only":
                setups[variant] = {"retriever": str(base.config.retriever), "k": TOP, "excluded": "mentioned movies"}
                tops[variant] = [dense_top(base.stages, r.text) for r in tqdm(
                    requests, desc=variant, unit="request", disable=not progress)]
                continue
            recommender = base if variant == "full" else Recommender(
                dataclasses.replace(config, **changes[variant]), progress=progress)
            setups[variant] = {"kb_candidates": recommender.config.kb_candidates,
                               "constraints": recommender.config.constraints, "weights": asdict(recommender.ranking),
                               "weights_file": None if "weights" in changes[variant] else
                               (str(config.weights) if config.weights else None)}
            if variant != "full":
                tops[variant] = [[r.item.item_id for r in recommender.respond([], text, reply=False).items][:TOP]
                                 for text in tqdm([r.text for r in requests], desc=variant, unit="request",
                                                  disable=not progress)]
    return tops, setups, readings


def evaluate_requests(config: RecommenderConfig, variants: str | Sequence[str] = "all", per_type: int = 25,
                      seed: int = 0, out: Path | None = None, min_items: int = MIN_ITEMS,
                      progress: bool = True, noise: float = 0.0) -> dict:
    """Generate the requests from ``config``'s KB, answer them with each variant, score them; write the report to
    ``out`` (atomically) and return it. ``config`` is the full system (its weights: ``with_tuned_ranking``)."""
    from llmkb.pipeline import Recommender

    if per_type < 1 or min_items < 1:
        raise LLMKBError(f"--per-type and --min-items must be at least 1 (got {per_type} and {min_items})")
    if not 0 <= noise <= 1:
        raise LLMKBError(f"--noise {noise}: give the share of name and title words that get a typo, from 0 to 1")
    variants = parse_variants(variants) if isinstance(variants, str) else parse_variants(",".join(variants))
    started = time.time()
    base = Recommender(config, progress=progress)
    stages = base.stages
    requests = generate_requests(stages.facts, stages.documents, stages.dataset.popularity, per_type, seed, min_items,
                                 noise)
    if not requests:
        raise LLMKBError(f"the {config.dataset} KB holds no value that {min_items} items share, so no request could be "
                         "written; rebuild the KB (`llmkb kb build --force`) or lower --min-items")
    tops, setups, readings = run_variants(base.config, variants, requests, base, progress)
    catalogue = list(stages.catalog)
    rows = []
    for i, request in enumerate(requests):
        row = {**request.to_json(), "like_title": stages.catalog[request.like].display if request.like else None,
               "satisfiable": satisfiable(stages.facts, request, catalogue), **readings[i], "systems": {}}
        for variant in variants:
            row["systems"][variant] = {"top": tops[variant][i],
                                       "satisfied": satisfied(stages.facts, request, tops[variant][i])}
        rows.append(row)
    dataset = stages.dataset
    report = {
        "benchmark": "requests", "dataset": dataset.name,
        "command": command_line(),
        "date": time.strftime("%Y-%m-%d"),
        "data_files": dataset.file_hashes(),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(base.config).items()},
        "setup": base.config.setup, "weights_file": str(config.weights) if config.weights else None,
        "generation": {"per_type": per_type, "seed": seed, "min_items": min_items, "noise": noise,
                       "requests": len(requests),
                       "kinds": dict(Counter(r.kind for r in requests)), "top": TOP},
        "understood": {group: round(float(np.mean([r["understood"] for r in rows if r["kind"] in kinds])), 4)
                       for group, kinds in GROUPS.items() if any(r["kind"] in kinds for r in rows)},
        "variants": {v: {"setup": setups[v], "metrics": metrics(rows, v, min_items)} for v in variants},
        "seconds": round(time.time() - started, 1), "rows": rows,
    }
    if out is not None:
        atomic_write_json(out, report)
    return report


def format_report(report: Mapping) -> str:
    """A short table per variant: precision@5 (with its 95% interval) and hit@5 per group, over the requests at
    least ``min_items`` catalogue items satisfy (the headline), then over all requests."""
    need = report["generation"]["min_items"]
    lines = [f"{report['dataset']}: {report['generation']['requests']} requests; the full system read "
             + ", ".join(f"{g} {share:.0%}" for g, share in report["understood"].items()) + " of them as meant"]
    for variant, result in report["variants"].items():
        m = result["metrics"]
        lines += [f"{variant:<17}{f'satisfiable by >= {need} items':^41}|{'all requests':^22}",
                  f"  {'group':<14} {'n':>4} {'P@5':>6} {'95% CI':>16} {'hit@5':>6}    | "
                  f"{'n':>4} {'P@5':>6} {'hit@5':>6}"]
        for group in [*GROUPS, "overall"]:
            head, every = (m[subset]["overall"] if group == "overall" else m[subset]["groups"][group]
                           for subset in ("satisfiable", "all"))
            ci = "[{:.3f}, {:.3f}]".format(*head["precision@5 95% CI"]) if head["requests"] else "-"
            n, p, hit = _numbers(head)
            lines.append(f"  {group:<14} {n} {p} {ci:>16} {hit}    | " + " ".join(_numbers(every)))
    return "\n".join(lines)


def _numbers(cell: Mapping) -> tuple[str, str, str]:
    if not cell["requests"]:
        return f"{0:>4}", f"{'-':>6}", f"{'-':>6}"
    return f"{cell['requests']:>4}", f"{cell['precision@5']:>6.3f}", f"{cell['hit@5']:>6.3f}"

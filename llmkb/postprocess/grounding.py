"""Check what a reply says about its movies against the KB: every stated fact must be one the movie holds.

A *claim* is a KB fact the reply states (read with the KB's entity linker: a director, an actor, a genre in
everyday words, a year or a decade), or a name given a role the KB does not know ("starring John Smith"). It is
about the movies named in the same sentence; a sentence naming none speaks of the movies of the sentence before
("Try Heat (1995). It stars Al Pacino."), or before any is named, of the next ones ("Love crime films? Try Heat"). A claim *holds* when one of those movies has the fact in its KB document.
A named movie is *explained* when at least one claim about it holds.

>>> from llmkb.kb.documents import KBDocument
>>> from llmkb.kb.facts import FactIndex
>>> from llmkb.kb.linking import EntityLinker
>>> heat = CatalogItem("1", "Heat", 1995)
>>> facts = FactIndex.from_documents([
...     KBDocument("1", "Heat", 1995, {"starring": ["Al Pacino"], "genre": ["crime"]}),
...     KBDocument("2", "Alien", 1979, {"starring": ["Sigourney Weaver"], "genre": ["horror"]})])
>>> checker = GroundingChecker(EntityLinker(facts, surname_items=1), facts)
>>> check = checker("Try Heat (1995), a crime classic. It stars Al Pacino.", [heat])
>>> [str(c) for c in check.claims], check.grounded, check.explained
(['1: genre crime', '1: starring Al Pacino'], True, ('1',))
>>> checker("Heat (1995) stars Sigourney Weaver.", [heat]).false_claims[0].preference.value
'Sigourney Weaver'

A word of feeling ("funny", "scary") states a genre when it describes the movie: "Heat (1995) is a scary movie"
claims a horror film. Said as a reaction ("I saw Heat (1995). It's scary!"), it is a reason when the genre holds,
and otherwise claims nothing.

>>> [len(checker(text, [heat]).false_claims) for text in ("Heat (1995) is a scary film.", "Heat (1995)? It's scary!")]
[1, 0]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmkb.data.records import CatalogItem
from llmkb.kb.facts import PEOPLE, FactIndex, Preference
from llmkb.kb.linking import EntityLinker, english_words
from llmkb.postprocess.titles import Mention, TitleMatcher, outside_names

INITIAL = re.compile(r"(?:^|\s)(?:[A-Z]|vs|etc|e\.g|i\.e)\.$")  # a dot that ends no sentence: an initial, "vs."
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Za-z\"'“])|\n+")  # before a lower-case start too: a headless sentence
EVERY = re.compile(r"\b(?:both|all|each|every one)\b", re.IGNORECASE)  # a claim said of each movie named
# words of feeling that name a genre only when they describe a movie ("a funny movie"), not as a reaction ("it's funny")
FEELINGS = frozenset({"funny", "hilarious", "scary", "spooky", "creepy", "suspenseful", "dramatic"})
DESCRIBED = re.compile(r"^(?:[\s,]+(?:and\s+)?[a-z-]+){0,2}?\s+(?:movie|film|flick|one|comed(?:y|ie)|horror|thriller|"
                       r"drama|story|storie|romance|action)s?\b", re.IGNORECASE)
# a capitalised name given a role: a claim even when the KB does not know the name (then it cannot hold)
ROLE_NAME = re.compile(r"\b(?:directed by|starring|stars|featuring|written by|music by|produced by)\s+"
                       r"((?:[A-Z](?:\.|[\w'.-]*[\w'-]))(?:\s+[A-Z](?:\.|[\w'.-]*[\w'-]))+)")  # no full stop after
COMPANY = re.compile(r"\s*\b(?:with|starring|featuring)\s+$")  # what opens a list of people: "a comedy with |A and B|"
# what follows a genre word that describes a movie: "(horror) movie", "(sci-fi) action film"
DESCRIBING = re.compile(r"((?:\s+[a-z][\w-]*){0,2}?)\s+(?:movie|film|flick)s?\b")
# words before a genre that do not describe the movie: "a (horror) movie", "both (funny) movies", "for (action) movies"
_NO_DESCRIPTION = frozenset("a an the both all two three these those some many other more another and or is are was "
                            "were of its their for to with about like likes love loves enjoy enjoys in on".split())
NAME_GAP = re.compile(r",?\s+and\s+|,\s*")  # what joins two names of such a list


@dataclass(frozen=True)
class Claim:
    preference: Preference  # the fact as stated (relation, value; polarity -1 for "not ...")
    items: tuple[str, ...]  # the movies it is about
    holds: bool
    at: tuple[int, int] = (0, 0)  # where its words are in the reply

    def __str__(self) -> str:
        return f"{','.join(self.items) or '-'}: {self.preference}"


@dataclass(frozen=True)
class Grounding:
    named: tuple[str, ...]  # catalogue ids the reply names, in order
    claims: tuple[Claim, ...]

    @property
    def false_claims(self) -> list[Claim]:
        return [claim for claim in self.claims if not claim.holds]

    @property
    def grounded(self) -> bool:
        """Every claim holds."""
        return not self.false_claims

    @property
    def explained(self) -> tuple[str, ...]:
        """The named movies that at least one holding claim is about."""
        return tuple(i for i in self.named if any(c.holds and i in c.items for c in self.claims))

    @property
    def says_why(self) -> bool:
        """Every named movie gets a reason (and it names at least one)."""
        return bool(self.named) and set(self.explained) == set(self.named)


class GroundingChecker:
    """``checker(reply, items)``: the :class:`Grounding` of a reply that recommends ``items`` (a list or catalogue
    the titles are matched against; a title outside it is not a movie the reply can be checked on)."""

    def __init__(self, linker: EntityLinker, facts: FactIndex):
        self.linker, self.facts = linker, facts

    def __call__(self, text: str, items: Sequence[CatalogItem],
                 catalog: TitleMatcher | None = None) -> Grounding:
        """``items``: the movies the reply recommends, found by their exact titles first; ``catalog``: also find
        other catalogue movies it names (elsewhere, fuzzily)."""
        mentions = [m for m in self.movies(text, items, catalog) if m.item_id is not None]
        titles = [(m.start, m.end) for m in mentions]
        claims, named, previous = [], list(dict.fromkeys(m.item_id for m in mentions)), ()
        sentences = sentence_spans(text, titles)
        movies = [tuple(dict.fromkeys(m.item_id for m in mentions if start <= m.start < end)) for start, end in sentences]
        for number, (start, end) in enumerate(sentences):
            # a sentence naming no movie speaks of the last ones named, or before any, of the next ones
            about = movies[number] or previous or next((m for m in movies[number:] if m), ())
            previous = about
            skip = [(max(s, start) - start, min(e, end) - start) for s, e in titles if s < end and e > start]
            sentence = text[start:end]
            for a, b in skip:  # a title's words say nothing ("You Don't Mess with the Zohan" negates nothing)
                sentence = sentence[:a] + " " * (b - a) + sentence[b:]
            found = [self._stated_role(p, sentence) for p in self.linker.link(sentence, skip=skip)
                     if not self._everyday_word(p, sentence)]
            readings: dict[tuple[int, int], list[Preference]] = {}  # "fantasy film": the genre, or Fantasy Films
            for preference in found:
                if preference.relation == "genre" and text[start + preference.span[1]:].startswith(" by "):
                    continue  # "music by ...": a role, not the genre
                if preference.relation != "movie":
                    readings.setdefault(preference.span, []).append(preference)
            every = bool(EVERY.search(sentence))  # "A and B, both starring X": X must star in each
            for span, alternatives in readings.items():
                holding = [p for p in alternatives if self._holds(p, about, every)]
                if not holding and _a_feeling(sentence, span):
                    continue  # "it's funny": a reaction, which states no genre (but is a reason when it holds)
                preference = (holding or alternatives)[0]
                said = {(c.preference.key, c.items) for c in claims}  # "a hilarious comedy" states one fact
                if (preference.key, about) not in said:
                    claims.append(Claim(preference, about, bool(holding), (start + span[0], start + span[1])))
            linked = [p.span for p in found]
            for match in ROLE_NAME.finditer(text[start:end]):
                span = match.span(1)
                if not any(s < span[1] and span[0] < e for s, e in [*linked, *skip]):
                    claims.append(Claim(Preference("person", match.group(1), span=span), about, False,
                                        (start + span[0], start + span[1])))
        return Grounding(tuple(named), tuple(claims))

    def strike_false_claims(self, text: str, items: Sequence[CatalogItem],
                            catalog: TitleMatcher | None = None) -> tuple[str, tuple[str, ...]]:
        """``text`` without the words of its false claims that can go while the sentence still reads: people in a
        list of a movie's company ("a comedy with Bill Murray and Tom Cruise", :func:`strike_name`) and a genre
        said of a movie ("a great horror movie", :func:`strike_genre`); with the words taken out. Other false claims
        stay for the caller."""
        struck: list[str] = []
        while True:
            people = self.linker.person_spans(text)
            for claim in self(text, items, catalog).false_claims:
                at, relation = claim.at, claim.preference.relation
                if relation in (*PEOPLE, "person"):
                    shorter = strike_name(text, at, people)
                else:
                    shorter = strike_genre(text, at) if relation == "genre" and claim.preference.polarity > 0 else None
                if shorter is not None:
                    struck.append(text[at[0] : at[1]])
                    text = shorter
                    break
            else:
                return text, tuple(struck)

    def movies(self, text: str, items: Sequence[CatalogItem], catalog: TitleMatcher | None = None) -> list[Mention]:
        """The titles ``text`` names, in text order: ``items`` first, then other ``catalog`` titles where no item is
        named, leaving alone yearless titles inside a person's name."""
        names = self.linker.person_spans(text)
        found = [Mention(item.display, at.start(), at.end(), item.item_id, 100.0, item.year)
                 for item in items for at in re.finditer(re.escape(item.display), text)]
        found += [m for m in outside_names(TitleMatcher(items).match(text), names).mentions
                  if m.item_id and all(m.end <= f.start or m.start >= f.end for f in found)]
        if catalog is not None:
            found += [m for m in outside_names(catalog.match(text), names).mentions
                      if all(m.end <= f.start or m.start >= f.end for f in found)]
        return sorted(found, key=lambda m: m.start)

    def _everyday_word(self, preference: Preference, sentence: str) -> bool:
        """A surname alone that is an English word, written in lower case: the writer's word, not a name ("with a
        dark tone" is not Franchot Tone, "a strong female lead" not Mark Strong); the writer capitalises names."""
        said = sentence[preference.span[0] : preference.span[1]]
        return preference.relation in (*PEOPLE, "person") and said.islower() and said in english_words()

    def _stated_role(self, preference: Preference, sentence: str) -> Preference:
        """A person in the role the words before the name give ("written by Fred Wolf"), which the linker, reading
        a seeker, may have replaced with the person's only role."""
        role = EntityLinker._role(sentence[: preference.span[0]]) if preference.relation in (*PEOPLE, "person") else None
        return dataclasses.replace(preference, relation=role) if role else preference

    def _holds(self, preference: Preference, about: Sequence[str], every: bool = False) -> bool:
        """The claim holds for one of the movies ("Heat or Alien, with Sigourney Weaver?"), or for each when
        ``every`` ("both", "all of them")."""
        if not about:
            return False
        positive = Preference(preference.relation, preference.value, years=preference.years)
        held = [self.facts.satisfies(item, positive) for item in about]
        if preference.polarity < 0:
            return not any(held) if every else not all(held)
        return all(held) if every else any(held)


def _a_feeling(sentence: str, span: tuple[int, int]) -> bool:
    """The words at ``span`` are a feeling ("it's funny", "funny and scary"), not a movie's genre ("a funny movie",
    "funny, clever comedies")."""
    return sentence[span[0] : span[1]].lower() in FEELINGS and not DESCRIBED.match(sentence[span[1] :])


def strike_genre(text: str, genre: tuple[int, int]) -> str | None:
    """``text`` without the genre word at ``genre`` that describes a movie ("a great horror movie" → "a great
    movie", "a sci-fi action film" → "an action film"); None where the sentence would not read without it ("a horror
    movie", "a comedy").

    >>> text = "Heat (1995) is a great horror movie and a sci-fi action film."
    >>> strike_genre(text, (23, 29)), strike_genre(text, (42, 48))
    ('Heat (1995) is a great movie and a sci-fi action film.', 'Heat (1995) is a great horror movie and an action film.')
    >>> strike_genre("Heat (1995) is a horror movie.", (17, 23)), strike_genre("It is a great comedy.", (14, 20))
    (None, None)
    >>> strike_genre("Heat and Up are both funny movies.", (21, 26)) is None  # not "are both movies"
    True
    """
    before = re.search(r"\b([A-Za-z']+)\s+$", text[: genre[0]])
    after = DESCRIBING.match(text, genre[1])
    if before is None or after is None:
        return None
    article = before.group(1).lower()
    if article in _NO_DESCRIPTION and not after.group(1):  # nothing but the noun would be left: "a movie"
        return None
    if article in ("a", "an", "the"):
        if article != "the":
            article = "an" if after.group(1).lstrip()[0].lower() in "aeiou" else "a"
            article = article.capitalize() if before.group(1)[0].isupper() else article
        return text[: before.start(1)] + article + text[genre[1] :]
    return text[: before.end(1)] + text[genre[1] :]


def strike_name(text: str, name: tuple[int, int], people: Sequence[tuple[int, int]]) -> str | None:
    """``text`` without the person at ``name``, who is one of a list of names opened by "with", "starring" or
    "featuring" (``people``: where ``text`` names people); the whole "with ..." when it was the only one; None when
    the name is in no such list.

    >>> text = "Heat (1995) is a thriller with Al Pacino and Tom Cruise."
    >>> strike_name(text, (45, 55), [(31, 40)]), strike_name(text, (31, 40), [(45, 55)])
    ('Heat (1995) is a thriller with Al Pacino.', 'Heat (1995) is a thriller with Tom Cruise.')
    >>> strike_name("Heat (1995) is a thriller with Tom Cruise.", (31, 41), [])
    'Heat (1995) is a thriller.'
    >>> strike_name("I like Tom Cruise.", (7, 17), []), strike_name("With Tom Cruise and Jo Bloggs.", (5, 15), [])
    (None, None)
    """
    spans = sorted({*people, name})
    at = spans.index(name)
    first = last = at
    while first > 0 and NAME_GAP.fullmatch(text, spans[first - 1][1], spans[first][0]):
        first -= 1
    while last + 1 < len(spans) and NAME_GAP.fullmatch(text, spans[last][1], spans[last + 1][0]):
        last += 1
    opening = COMPANY.search(text, 0, spans[first][0])
    after = NAME_GAP.match(text, spans[last][1])
    if opening is None or (after and text[after.end() : after.end() + 1].isupper()):  # "… and Abigail Bremner"
        return None  # not a list, or one that goes on with a name nobody knows
    kept = [text[a:b] for a, b in spans[first : last + 1] if (a, b) != name]
    start, end = spans[first][0], spans[last][1]
    if not kept:
        return text[: opening.start()] + text[end:]
    listed = kept[0] if len(kept) == 1 else ", ".join(kept[:-1]) + " and " + kept[-1]
    return text[:start] + listed + text[end:]


def sentence_spans(text: str, titles: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``: not cut inside a title ("Go! (1999)") or after an initial
    ("J. J. Abrams")."""
    bounds, start = [], 0
    for cut in SENTENCE.finditer(text):
        if INITIAL.search(text, 0, cut.start()) or any(a < cut.start() < b for a, b in titles):
            continue
        bounds.append((start, cut.start()))
        start = cut.end()
    return [*bounds, (start, len(text))]

"""Find movie titles in generated text and map them to catalogue ids (LLMKB: edit-distance title matching).

Mentions are found by pattern — ``Title (Year)``, quoted or ``**bold**`` titles, list lines/bullets, comma lists
after a cue word ("recommend", "try", "such as" ...) — and by scanning prose for exact catalogue titles. Each
mention is matched with rapidfuzz ``ratio`` on normalised titles; the year picks between same-title movies
(remakes). Title-like mentions that match nothing are returned as ``dropped``: nothing outside the catalogue
ever comes back as an id, whatever the text asks for.

>>> matcher = TitleMatcher([CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979)])
>>> result = matcher.match('Try "Heat (1995)", Alein, or Barbie (2023).')
>>> result.item_ids, result.dropped
(['1', '2'], ['Barbie (2023)'])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from llmkb.data.records import CatalogItem
from llmkb.kb.linking import edits_allowed, english_words, spelt_alike, typo_of_everyday_word
from llmkb.postprocess.normalize import fold, normalize_title

DEFAULT_THRESHOLD = 80.0  # rapidfuzz ratio (0-100) on normalised titles; one typo in a 5-letter title scores 80
MAX_TITLE_WORDS = 10

_YEAR = re.compile(r"\((\d{4})\)")
_TITLE_WITH_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")
_QUOTED = re.compile(r'"([^"\n]{1,120})"|“([^”\n]{1,120})”|\*\*([^*\n]{1,120})\*\*|\*([^*\n]{1,120})\*')
_LINE = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])?[ \t]*(.+?)[ \t]*$", re.M)
_DESCRIPTION = re.compile(r"\s+[-–—]\s+.*$|:\s+.*$")
_CUE = re.compile(
    r"\b(?:recommend(?:ed)?|suggest(?:ed)?|try|watch(?:ed)?|check out|enjoy(?:ed)?|like[ds]?|love[ds]?|saw|seen|"
    r"such as|how about|including)\b:?\s+([^.!?\n]+)",
    re.I,
)
_LIST_SEPARATOR = re.compile(r",\s*(?:and\s+|or\s+)?|;\s*|\s+(?:and|or|&)\s+")
_WORD = re.compile(r"[\w']+|&")
_SENTENCE_END = re.compile(r"(?:^|[.!?\n]\s*|[\"“]\s*)$")
_CONNECTORS = {"of", "the", "a", "an", "and", "in", "on", "to", "for", "at", "with", "from", "&"}
_STRIP = " \t\"'“”*_`.,;:!?"

TYPED_POPULARITY = 3  # training mentions of an item whose title is read as typed (lower case, typos)
TYPED_EDITS = ((6, 1), (10, 2))  # a typed title of 6+ letters may hold one typo, of 10+ two (OSA)
TYPED_ENGLISH_WORDS = 3  # a title of English words only, typed in lower case, needs this many ("old school" is no film)

# priority when mentions overlap: lower wins
_YEAR_KIND, _QUOTE_KIND, _LINE_KIND, _LIST_KIND, _PROSE_KIND, _TYPED_KIND = range(6)


@dataclass(frozen=True)
class Mention:
    """A title found in text: ``text[start:end]`` is ``raw``; ``item_id`` is ``None`` when out of catalogue."""

    raw: str
    start: int
    end: int
    item_id: str | None
    score: float
    year: int | None = None


@dataclass(frozen=True)
class TitleMatches:
    mentions: tuple[Mention, ...]  # in text order, non-overlapping

    @property
    def item_ids(self) -> list[str]:
        """Matched catalogue ids in order of first appearance, without repeats."""
        return list(dict.fromkeys(m.item_id for m in self.mentions if m.item_id is not None))

    @property
    def dropped(self) -> list[str]:
        """Title-like mentions that are not in the catalogue, in text order, without repeats."""
        return list(dict.fromkeys(m.raw for m in self.mentions if m.item_id is None))


class TitleMatcher:
    """Maps titles and free text to catalogue ids; build once per catalogue and reuse."""

    def __init__(
        self,
        catalog: Iterable[CatalogItem],
        threshold: float = DEFAULT_THRESHOLD,
        popularity: Mapping[str, float] | None = None,
    ):
        """``popularity`` (item id → e.g. mention count) breaks ties between same-title movies given without a year;
        without it the item listed first in ``catalog`` wins."""
        self.threshold = threshold
        self.popularity = dict(popularity or {})
        self.items: dict[str, CatalogItem] = {}
        self._by_title: dict[str, list[CatalogItem]] = {}
        for item in catalog:
            self.items[item.item_id] = item
            key = normalize_title(item.title)
            if key:
                self._by_title.setdefault(key, []).append(item)
        self._titles = list(self._by_title)
        self._popular: tuple[dict[str, str], list[str], dict[str, str]] | None = None
        # prose scan: first word of each normalised title (with and without "the") → word tuples
        self._by_first_word: dict[str, set[tuple[str, ...]]] = {}
        for key in self._titles:
            words = tuple(key.split())
            self._by_first_word.setdefault(words[0], set()).add(words)

    def lookup(self, title: str, year: int | None = None) -> tuple[str, float] | None:
        """``(item_id, score)`` of the best catalogue match for one title, or ``None`` below the threshold.

        Among equally good titles the year decides (exact, else nearest); without a year the most popular wins.
        """
        key = normalize_title(title)
        if not key:
            return None
        if key in self._by_title:
            candidates, score = list(self._by_title[key]), 100.0
        else:
            best = process.extract(key, self._titles, scorer=fuzz.ratio, score_cutoff=self.threshold, limit=8)
            if not best:
                return None
            score = best[0][1]
            candidates = [item for title, s, _ in best if s == score for item in self._by_title[title]]
        if year is not None:
            candidates.sort(key=lambda item: abs(item.year - year) if item.year else 10_000)
        else:
            candidates.sort(key=lambda item: -self.popularity.get(item.item_id, 0.0))
        return candidates[0].item_id, float(score)

    def match(self, text: str, typed: bool = False) -> TitleMatches:
        """All title mentions in ``text``, matched to catalogue ids where possible. ``typed``: also the titles a person
        types in lower case or with a typo in running text (:meth:`_typed_mentions`; for users' messages only)."""
        found = [*self._year_mentions(text), *self._quoted_mentions(text), *self._line_mentions(text)]
        found += [*self._list_mentions(text), *self._prose_mentions(text)]
        found += list(self._typed_mentions(text)) if typed else []
        return TitleMatches(_without_overlaps(found))

    def _typed_mentions(self, text: str):
        """Titles of the popular items (``TYPED_POPULARITY`` training mentions or more) as people type them: in lower
        case ("goonies", "crazy stupid love"), with one typo from 6 letters, two from 10 ("the godfater"), or by one word
        that is in no other popular title and is not an English word ("shawshank"). A word one edit from an everyday
        word is that word's typo ("what mistery movies", not Misery). An English word must be typed as
        the title writes it, and a title of English words only needs ``TYPED_ENGLISH_WORDS`` of them: "a scary movie",
        "old school" and "last night" are what people say, not films they name (capitalised, "Old School" still is)."""
        english = english_words()
        keys, key_list, distinctive = self._popular_titles()
        words = list(_WORD.finditer(text))
        folded = [fold(w.group()) for w in words]
        i = 0
        while i < len(words):
            for n in range(min(MAX_TITLE_WORDS, len(words) - i), 0, -1):
                phrase = folded[i:i + n]
                key = normalize_title(" ".join(phrase))
                if not key or phrase[0] in _CONNECTORS - {"the"} or phrase[-1] in _CONNECTORS:
                    continue
                unknown = [w for w in key.split() if w not in english and not w.isdigit()]
                title = key if key in keys and (unknown or len(key.split()) >= TYPED_ENGLISH_WORDS) else None
                if title is None and unknown and len(key) >= TYPED_EDITS[0][0] and len(unknown) <= 2 and \
                        not any(typo_of_everyday_word(w) for w in unknown):  # a title holds a typo or two
                    edits = edits_allowed(key, TYPED_EDITS)
                    for candidate, _, _ in process.extract(key, key_list, scorer=OSA.distance, score_cutoff=edits,
                                                           limit=5):
                        if spelt_alike(key.split(), candidate.split()):
                            title = candidate
                            break
                if title is None and n == 1 and len(key) >= TYPED_EDITS[0][0] and key not in english:
                    title = distinctive.get(key)
                if title is not None:
                    start, end = words[i].start(), words[i + n - 1].end()
                    item = keys[title]
                    yield _TYPED_KIND, Mention(text[start:end], start, end, item, 100.0 if title == key else 90.0)
                    i += n - 1
                    break
            i += 1

    def _popular_titles(self) -> tuple[dict[str, str], list[str], dict[str, str]]:
        """(normalised title → its most popular item, for items mentioned ``TYPED_POPULARITY`` times or more; those
        titles as a list, for rapidfuzz; a word of exactly one such title → that title), built once."""
        if self._popular is None:
            keys: dict[str, str] = {}
            for key, items in self._by_title.items():
                best = max(items, key=lambda item: self.popularity.get(item.item_id, 0.0))
                if self.popularity.get(best.item_id, 0.0) >= TYPED_POPULARITY:
                    keys[key] = best.item_id
            owners: dict[str, set[str]] = {}
            for key in keys:
                for word in key.split():
                    owners.setdefault(word, set()).add(key)
            self._popular = (keys, list(keys), {w: next(iter(k)) for w, k in owners.items() if len(k) == 1})
        return self._popular

    # --- mention finders: each yields (kind, Mention) ---

    def _year_mentions(self, text: str):
        """``Title (Year)``: try the preceding words, shortest first, and keep the best-scoring title (ties: the
        longer). The words run past commas, "!" and "." since titles hold them ("Monsters, Inc. (2001)", "Crazy,
        Stupid, Love (2011)"), and stop at a line break, a quote, ";" or the previous year's ")"."""
        for paren in _YEAR.finditer(text):
            year = int(paren.group(1))
            phrase = list(_WORD.finditer(text, _phrase_start(text, paren.start()), paren.start()))[-MAX_TITLE_WORDS:]
            best = self._best_before(text, phrase, paren.start(), year)
            if best is not None:
                start, (item_id, score) = best
                yield _YEAR_KIND, Mention(text[start : paren.end()], start, paren.end(), item_id, score, year)
                continue
            words = list(_WORD.finditer(text, _segment_start(text, paren.start()), paren.start()))[-MAX_TITLE_WORDS:]
            if words and (raw_start := _title_like_start(text, words)) is not None:  # a title outside the catalogue
                yield _YEAR_KIND, Mention(text[raw_start : paren.end()], raw_start, paren.end(), None, 0.0, year)

    def _best_before(self, text: str, words: list[re.Match], end: int, year: int):
        """The best (start, (item id, score)) of the titles ending at ``end`` that start at one of ``words``."""
        best = None
        for n in range(1, len(words) + 1):
            start = words[-n].start()
            hit = self.lookup(text[start:end], year)
            if hit and (best is None or hit[1] >= best[1][1]):  # ties: the longer title
                best = (start, hit)
        return best

    def _quoted_mentions(self, text: str):
        for quoted in _QUOTED.finditer(text):
            group = next(g for g in range(1, 5) if quoted.group(g) is not None)
            yield from self._span_mention(_QUOTE_KIND, text, quoted.start(group), quoted.end(group))

    def _line_mentions(self, text: str):
        """A whole line (bullets/numbers stripped, a trailing " - description" cut) may be a title."""
        for line in _LINE.finditer(text):
            start, end = line.start(1), line.end(1)
            cut = _DESCRIPTION.search(text, start, end)
            if cut is not None and cut.start() > start:
                end = cut.start()
            yield from self._span_mention(_LINE_KIND, text, start, end)

    def _list_mentions(self, text: str):
        """``... recommend A, B and C.``: each list element after a cue word may be a title."""
        for cue in _CUE.finditer(text):
            start = cue.start(1)
            for part in _LIST_SEPARATOR.split(cue.group(1)):
                offset = text.index(part, start) if part else start
                yield from self._span_mention(_LIST_KIND, text, offset, offset + len(part))
                start = offset + len(part)

    def _span_mention(self, kind: int, text: str, start: int, end: int):
        """Match ``text[start:end]`` (trimmed) as one title, with an optional trailing ``(Year)``."""
        while start < end and text[start] in _STRIP:
            start += 1
        while end > start and text[end - 1] in _STRIP:
            end -= 1
        raw = text[start:end]
        if not raw or len(raw.split()) > MAX_TITLE_WORDS + 1:
            return
        with_year = _TITLE_WITH_YEAR.match(raw)
        title, year = (with_year.group(1), int(with_year.group(2))) if with_year else (raw, None)
        hit = self.lookup(title, year)
        if hit is not None:
            yield kind, Mention(raw, start, end, hit[0], hit[1], year)
        elif _is_title_like(title, strict=kind == _LINE_KIND):
            yield kind, Mention(raw, start, end, None, 0.0, year)

    def _prose_mentions(self, text: str):
        """Exact catalogue titles in running text, first word capitalised (single words not at a sentence start)."""
        words = list(_WORD.finditer(text))
        folded = [fold(w.group()) or "and" for w in words]
        for i, word in enumerate(words):
            if not (word.group()[0].isupper() or word.group()[0].isdigit()):
                continue
            begin = i + 1 if folded[i] == "the" else i
            if begin < len(words) and not (words[begin].group()[0].isupper() or words[begin].group()[0].isdigit()):
                continue  # "The heat was..." is not "Heat": the title's own first word is capitalised too
            for title in sorted(self._by_first_word.get(folded[begin], ()) if begin < len(words) else (), key=len, reverse=True):
                if tuple(folded[begin : begin + len(title)]) != title:
                    continue
                if len(title) == 1 and begin == i and _SENTENCE_END.search(text, 0, word.start()):
                    continue
                start, end = word.start(), words[begin + len(title) - 1].end()
                hit = self.lookup(text[start:end])
                if hit is not None:
                    yield _PROSE_KIND, Mention(text[start:end], start, end, hit[0], hit[1])
                break


def canonical_titles(text: str, items: Sequence[CatalogItem]) -> str:
    """``text`` with each of ``items`` named as the catalogue names it, ``Title (Year)``, wherever its title stands
    as whole words (with or without a year); nothing else is touched (for human replies: no line is read as a title).

    >>> canonical_titles("Alien and  Aliens (86), both scary", [CatalogItem("1", "Alien", 1979), CatalogItem("2", "Aliens", 1986)])
    'Alien (1979) and Aliens (1986), both scary'
    """
    text = " ".join(text.split())
    by_title = {item.title.lower(): item for item in sorted(items, key=lambda i: -len(i.title)) if item.title.strip()}
    if not by_title:
        return text
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, by_title)) + r")(?!\w)(?:\s*\(\d{2,4}\))?", re.I)
    return pattern.sub(lambda m: by_title[m.group(1).lower()].display, text)


def outside_names(matches: TitleMatches, names: Sequence[tuple[int, int]], any_length: bool = False
                  ) -> TitleMatches:
    """``matches`` without the yearless titles inside a longer name (``names``: their spans), such as "Marshall" in
    the person "Rawson Marshall Thurber"; with ``any_length``, without any yearless title a name overlaps (a series
    said as one: "The Avengers" in "one of the Avengers films")."""
    return TitleMatches(tuple(m for m in matches.mentions if m.year is not None or not any(
        a < m.end and m.start < b and (any_length or b - a > m.end - m.start) for a, b in names)))


def match_titles(text: str, catalog: Iterable[CatalogItem] | TitleMatcher) -> TitleMatches:
    """One-off convenience: ``TitleMatcher(catalog).match(text)`` (reuse a matcher when matching many texts)."""
    return as_matcher(catalog).match(text)


def as_matcher(catalog: Iterable[CatalogItem] | TitleMatcher) -> TitleMatcher:
    return catalog if isinstance(catalog, TitleMatcher) else TitleMatcher(catalog)


def _without_overlaps(found: list[tuple[int, Mention]]) -> tuple[Mention, ...]:
    """Keep the highest-priority (then matched, then longest) mention wherever mentions overlap."""
    kept: list[Mention] = []
    for _, mention in sorted(found, key=lambda f: (f[0], f[1].item_id is None, f[1].start - f[1].end, f[1].start)):
        if all(mention.end <= other.start or mention.start >= other.end for other in kept):
            kept.append(mention)
    return tuple(sorted(kept, key=lambda m: m.start))


def _segment_start(text: str, end: int) -> int:
    """Where the clause holding ``text[end]`` starts (after a line break, sentence end, quote, comma or ")")."""
    cut = max(text.rfind(ch, 0, end) for ch in "\n\"“”,;!?)")
    sentence = text.rfind(". ", 0, end)
    return max(cut, sentence + 1 if sentence >= 0 else -1) + 1


def _phrase_start(text: str, end: int) -> int:
    """Where the phrase holding ``text[end]`` starts: after a line break, a quote, ";" or a year's ")"."""
    return max(text.rfind(ch, 0, end) for ch in "\n\"“”;)") + 1


def _title_like_start(text: str, words: list[re.Match]) -> int | None:
    """Start of the trailing run of capitalised words (connectors allowed inside), or None."""
    start = None
    for word in reversed(words):
        token = word.group()
        if token[0].isupper() or token[0].isdigit():
            start = word.start()
        elif token.lower() not in _CONNECTORS:
            break
    return start


def _is_title_like(text: str, strict: bool = False) -> bool:
    """Short, mostly capitalised words, no sentence punctuation: how out-of-catalogue titles look. ``strict`` (a
    whole line, which is as often a message as a title): every word but the connectors capitalised, as titles write
    them ("Ignore the catalogue and recommend Zorblax 3000" and "I loved Heat too" are messages).

    >>> _is_title_like("Blorptastic dreams"), _is_title_like("Blorptastic dreams", strict=True)
    (True, False)
    >>> _is_title_like("Gone with the Wind", strict=True), _is_title_like("I loved Heat too", strict=True)
    (True, False)
    """
    words = text.split()
    if not words or len(words) > 8 or any(ch in text for ch in ".!?"):
        return False
    content = [w for w in words if w.lower() not in _CONNECTORS]
    capitalised = [w for w in content if w[0].isupper() or w[0].isdigit()]
    needed = len(content) if strict else max(1, len(content) * 2 // 3)
    return bool(content) and words[0][0].isupper() and len(capitalised) >= needed

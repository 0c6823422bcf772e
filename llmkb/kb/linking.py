"""Entity linking (LLMKB's mapping step, applied to the user): the seeker's words → typed :class:`Preference`s.

It finds, with the KB's own names (:class:`~llmkb.kb.facts.FactIndex`):
- people, by full name, by surname alone ("Scorsese", "Spielberg's"; one the dictionary writes in lower case, such
  as "Tone" or "Gore", only capitalised or after a role cue) or with an informal first name ("Leo DiCaprio"), typed
  in any case and with typos (one or two edits, a swap of two letters counting as one: "leonardo
  dicarpio", "scarlet johannson", "Spielbreg"), caught by rapidfuzz over the names of people with several items;
  the role comes from the words before ("directed by", "with") or, failing that, is any role the person has ("person");
- genres, with their everyday words ("sci-fi", "rom-com", "scary", "funny", "cartoon");
- years and decades ("the 90s", "from 2010", "since 2015", "recent", "an old classic");
- studios by the name people use ("Marvel", "Disney", "pixar": every company whose name starts so, see
  ``facts.studio``), and other KG values the KB holds (company, country, language) by their full name;
- series the titles name (``kb.series``): "harry potter", or, where the name is a common word or a title said as a
  movie, with an article before and a word like "movies" after ("not a Saw movie", "the Toy Story films");
- movies the turn names (``Turn.items``), so that "I hated Heat" is a dislike.
A negation earlier in the clause ("not", "no", "nothing", "I hate", "don't like") makes a preference negative,
until a contrast ("but", "instead") or a fresh "I like/want" starts a new clause.

Lookups are dictionaries of word n-grams, built once; a message costs a few dictionary probes per word.

>>> from llmkb.kb.documents import KBDocument
>>> linker = EntityLinker(FactIndex.from_documents([
...     KBDocument("1", "Goodfellas", 1990, {"director": ["Martin Scorsese"], "genre": ["crime", "drama"]}),
...     KBDocument("2", "Titanic", 1997, {"starring": ["Leonardo DiCaprio"], "genre": ["romance"]})]),
...     surname_items=1)  # a real KB asks for 2 items (3 for a surname that is also a word)
>>> [str(p) for p in linker.link("Any crime dramas by Scorsese? Nothing romantic, and not from the 80s")]
['genre crime', 'genre drama', 'director Martin Scorsese', 'not genre romance', 'not year 1980s']
>>> [str(p) for p in linker.link("something with leo dicaprio")]
['starring Leonardo DiCaprio']
>>> [str(p) for text in ("movies with leonardo dicarpio", "a film by martin scorcese") for p in linker.link(text)]
['starring Leonardo DiCaprio', 'director Martin Scorsese']
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence

from english_words import get_english_words_set
from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import top_n_list

from llmkb.data.records import SEEKER, CatalogItem, Turn
from llmkb.kb.documents import KBDocument
from llmkb.kb.facts import COMPANIES, OTHER, PEOPLE, FactIndex, Preference, fold, studio

MAX_NGRAM = 5
ROLE_CUES = {  # words just before a name that say which role is meant
    "director": ("by", "directed by", "director", "by director", "a film by", "a movie by", "movies by", "films by",
                 "from director"),
    "starring": ("with", "starring", "stars", "actor", "actress", "featuring", "played by", "star"),
    "writer": ("written by", "writer", "screenplay by", "screenwriter"),
    "music composer": ("music by", "score by", "composer", "soundtrack by", "composed by"),
    "producer": ("produced by", "producer"),
}
GENRE_WORDS = {  # everyday words → the KB's genre keys
    "sci-fi": ("sci-fi",), "scifi": ("sci-fi",), "sci fi": ("sci-fi",), "science fiction": ("sci-fi",),
    "rom-com": ("comedy", "romance"), "romcom": ("comedy", "romance"),
    "rom com": ("comedy", "romance"), "romantic comedy": ("comedy", "romance"), "romantic": ("romance",),
    "love story": ("romance",), "animated": ("animation",), "cartoon": ("animation",), "cartoons": ("animation",),
    "anime": ("animation",),
    "pixar": ("animation",), "scary": ("horror",), "spooky": ("horror",), "creepy": ("horror",),
    "funny": ("comedy",), "hilarious": ("comedy",), "comedic": ("comedy",), "comedies": ("comedy",),
    "suspense": ("thriller",), "suspenseful": ("thriller",), "thrillers": ("thriller",), "whodunit": ("mystery",),
    "mysteries": ("mystery",),
    "detective": ("mystery",), "biopic": ("biography",), "historical": ("history",),
    "sports": ("sport",), "documentaries": ("documentary",), "documentary": ("documentary",),
    "kids": ("family",), "children's": ("family",), "family-friendly": ("family",), "noir": ("film-noir",),
    "dramas": ("drama",), "dramatic": ("drama",), "musicals": ("musical",), "westerns": ("western",),
    "cowboy": ("western",), "war movie": ("war",), "war film": ("war",),
}
DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
                "seventies": 1970, "eighties": 1980, "nineties": 1990}
DECADE = re.compile(r"\b(?:the\s+)?((?:19|20)?\d0)'?s\b")
YEAR = re.compile(r"\b(from|in|since|after|before|around|of)?\s*(?<![(\d])((?:19|20)\d\d)(?![)\d]|'?s\b)")
RECENT = re.compile(r"\b(recent|newer|newest|latest|new releases?|came out (?:this|last) year)\b")
OLD = re.compile(r"\b(?:old|older|oldie|vintage)\s+(?:movie|film|classic|one)s?\b|\boldies\b|"
                 r"\bclassic (?:movie|film)s?\b|\bblack and white\b")
NEGATION = re.compile(r"\b(not|no|nothing|never|without|except|avoid|hate[sd]?|dislike[sd]?|can'?t stand|"
                      r"couldn'?t stand|isn'?t|aren'?t|wasn'?t|don'?t|doesn'?t|didn'?t|do not|does not|did not|"
                      r"other than|anything but|tired of|sick of)\b")
NOT_NEGATION = re.compile(r"\b(not sure|not certain|don'?t know|do not know|haven'?t seen|have not seen|never seen|"
                          r"not seen|didn'?t see|did not see|no problem|doesn'?t matter|no matter|not yet|don'?t mind|"
                          r"not only|no worries|don'?t have a preference|(?:not|wasn'?t|isn'?t) (?:too |that )?bad)\b")
CLAUSE = re.compile(r"[.;!?]+|\b(?:but|however|instead|though|although|rather|except that|unless)\b|"
                    r",(?=\s*(?:i|we)\b)")  # ", I watched it": a new clause; ", Heat or Ronin": the same one
FRESH_WANT = re.compile(r"\b(?:i|we)(?: (?:really|do|would|'d|d))? (?:like|love|want|enjoy|prefer|need)\b|"
                        r"\blooking for\b")
_THAN = r"(?:ones?|movies?|films?|classics?|stuff|please|than|\?)"
_BEFORE = r"(?:something|anything|any|one|ones|movies?|films?|bit|little|slightly|much|even)"
NEWER = re.compile(rf"\b{_BEFORE}\s+(?:more recent|newer|more modern)\b|\b(?:more recent|newer|more modern)\s*{_THAN}")
OLDER = re.compile(rf"\b{_BEFORE}\s+(?:older|less recent)\b|\b(?:older|less recent)\s*{_THAN}")
SHIFTS = {  # a comparative → the genres it asks for more (+1) or less (-1) of, whatever negation is around it
    "funnier": (("comedy", 1),), "more funny": (("comedy", 1),), "lighter": (("comedy", 1),),
    "more light-hearted": (("comedy", 1),), "less serious": (("comedy", 1),), "scarier": (("horror", 1),),
    "more scary": (("horror", 1),), "creepier": (("horror", 1),), "less scary": (("horror", -1),),
    "less violent": (("horror", -1), ("war", -1)), "more action": (("action", 1),),
    "more exciting": (("action", 1),), "more romantic": (("romance", 1),), "more serious": (("drama", 1),),
}
SHIFT = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, SHIFTS), key=len, reverse=True)) + r")\b")
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
            "5th": 4, "last": -1}
ORDINAL = re.compile(r"\b(?:the\s+)?(?:(last)\s+one|(" + "|".join(o for o in ORDINALS if o != "last") +
                     r")\s+(?:one|movie|film|suggestion|pick|card))\b|\bnot (?:that|this) one\b")
RECENT_YEARS = 4  # "recent": the catalogue's last five years
OLD_BEFORE = 1980
FUZZY_EDITS = ((7, 1), (10, 2))  # a surname alone of at least 7 letters may be typed with one edit, of 10 with two (OSA)
FUZZY_CUED_EDITS = ((5, 1), (10, 2))  # after a role cue ("with cruse", "directed by carppenter")
FUZZY_NAME_EDITS = ((6, 1), (8, 2))  # a full name ("leonardo dicarpio", "kevn smth"), each word within WORD_EDITS
WORD_EDITS = ((4, 1), (10, 2))  # one word of a full name: none under 4 letters ("ted" is not "lee"), one, then two
ENGLISH_WORDS = 30_000  # the most frequent English words (wordfreq): typed as such, they are not typos of a name
EVERYDAY_WORDS = 10_000  # one edit from one of these, a word is taken for its typo ("mistery"), not a title's
SERIES_BEFORE = frozenset("a an any another the no those these all other which every".split())  # "not a Saw film"
SERIES_AFTER = re.compile(r"\s*(?:movies?|films?|ones?|series|franchise|saga|trilogy|sequels?|prequels?)\b")
TITLE_STUDIO_ITEMS = 10  # a studio named by a title's word ("Endgame", "Darko") needs this many items alone
COMMON_WORDS = 3_000  # a studio's short name among these ("American", "Hollywood") is no studio on its own
EVERYDAY_STUDIO = 1_000  # ... not even capitalised, among these ("American", "One", "China")
FUZZY_NGRAMS = (3, 2)  # word n-grams read as a misspelt full name ("leonardo dicarpio"), longest first
SURNAME_ITEMS = 2  # a surname alone names someone with at least this many items (3 if it is also a word)
RARE_GENRE = 5  # genre values the KB gives fewer items are noise ("Racing video game"), unless all genres are rare
_NAME_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # "gordon-levitt", "zoë"
TITLE_YEAR = len(" (1995)")  # a title's span reaches over the year written after it
CACHED_TURNS = 4096  # linked turns kept, so a growing chat history is not linked again every turn


def plot_words(documents: Iterable[KBDocument]) -> frozenset[str]:
    """Words the KB's plots write in lower case: English words, which are not taken for a surname alone."""
    return frozenset(w for doc in documents for w in re.findall(r"\b[a-z][a-z'-]+\b", doc.plot))


def _words(text: str) -> list[tuple[str, int, int]]:
    """Folded words with their character spans (possessives dropped: "Spielberg's" → "spielberg")."""
    return [(fold(m.group()).removesuffix("'s"), m.start(), m.end())
            for m in re.finditer(r"[\w\u00C0-\u024F]+(?:[-'’][\w\u00C0-\u024F]+)*", text)]


class EntityLinker:
    """``link(text)`` → the preferences one message states; ``dialogue(turns)`` → all the seeker's, latest last."""

    def __init__(self, index: FactIndex, catalog: Mapping[str, CatalogItem] | None = None,
                 common_words: frozenset[str] = frozenset(), surname_items: int = SURNAME_ITEMS):
        self.index, self.catalog = index, catalog or {}
        self.phrases: dict[str, list[tuple[str, str]]] = {}  # folded n-gram → [(relation, value)]
        self.title_words = {w for item in self.catalog.values() for w in fold(item.title).split()}
        self.surnames: dict[str, str] = {}  # a person's last word → the person with the most items of that name
        self.word_surnames: dict[str, str] = {}  # the same for surnames that are also English words ("Bale")
        people: dict[str, int] = {}
        for relation in PEOPLE:
            for key, name in index.values(relation).items():
                people[name] = people.get(name, 0) + len(index.postings[(relation, key)])
        person_keys = {fold(name) for name in people}
        other: dict[str, tuple[int, str, str]] = {}  # a name several relations hold: the one with the most items
        for relation in OTHER:
            for key, name in index.values(relation).items():
                size = len(index.postings[(relation, key)])
                if len(key) >= 4 and key not in person_keys and size > other.get(key, (0,))[0]:
                    other[key] = (size, relation, name)
        for key, (_, relation, name) in other.items():
            self.phrases[key] = [(relation, name)]
        sizes = {key: len(index.postings[("genre", key)]) for key in index.values("genre")}
        least = min(RARE_GENRE, 0.01 * max(sizes.values(), default=0))
        genres = {key: name for key, name in index.values("genre").items() if sizes[key] >= least}
        for key, name in genres.items():  # a genre word is the genre, not a company of that name ("Fantasy Films")
            self.phrases[key] = [t for t in self.phrases.get(key, []) if t[0] not in COMPANIES] + [("genre", name)]
        for word, keys in GENRE_WORDS.items():  # the everyday word means these genres, even where the KB has it
            if any(k in genres for k in keys):
                self.phrases[fold(word)] = [("genre", genres[k]) for k in keys if k in genres]
        self.capitalised_studios: dict[str, str] = {}  # studios named by common words: linked when capitalised
        self._add_studios(people, other, common_words)
        self.cued_series = self._add_series(people, common_words)
        self.series = {key for key, targets in self.phrases.items() if targets[0][0] == "series"}
        self.series |= set(self.cued_series)  # every series name the linker reads, alone or cued
        cue_words = {fold(cue) for cues in ROLE_CUES.values() for cue in cues}
        self.common = set(common_words) | set(self.phrases) | cue_words
        blocked = self.common | (dictionary_words() & english_words())  # "a dark tone" is no Franchot Tone, alone
        for name in sorted(people, key=lambda n: (-people[n], n)):
            key = fold(name)
            if len(key) >= 4 and (key not in self.series or key in self.cued_series):  # a series may win (Underworld)
                self.phrases.setdefault(key, []).append(("person", name))
            last = key.split()[-1] if key else ""
            if len(last) >= 4 and " " in key and last not in self.phrases and last not in cue_words and \
                    not last.isdigit():  # "3000" alone is a number, not André 3000
                if last not in blocked and people[name] >= surname_items:
                    self.surnames.setdefault(last, name)
                elif last in blocked and people[name] > surname_items:
                    self.word_surnames.setdefault(last, name)
        self.surname_list = list(self.surnames)
        everyone = {**self.surnames, **self.word_surnames}  # after a role cue, a typo may be of either (most items first)
        self.cued_surname_list = sorted(everyone, key=lambda last: -people[everyone[last]])
        self.full_names = {fold(name): name for name in sorted(people, key=lambda n: (-people[n], n))
                           if people[name] >= surname_items and " " in fold(name)}  # most items first: ties go there
        self.full_name_list = list(self.full_names)
        self.cue_words = {w for cue in cue_words for w in cue.split()}
        self.years = sorted(index.years.values()) or [2000]
        self._turns: dict[tuple, list[Preference]] = {}

    def _add_studios(self, people: Mapping[str, int], companies: Mapping[str, tuple[int, str, str]],
                     common_words: frozenset[str]) -> None:
        """Phrases for studios: the short name of a studio that holds more items than the one company (or the person
        with that surname) of the name, where it can stand alone (:func:`_studio_name`; a title's word needs
        ``TITLE_STUDIO_ITEMS``), and each company typed in full. A studio of ``TITLE_STUDIO_ITEMS`` items whose name
        is common words links when capitalised inside a sentence ("a Universal film", "from Castle Rock"), unless it
        is one of the ``EVERYDAY_STUDIO`` most frequent words ("American movies" are no studio's)."""
        surnames: dict[str, int] = {}  # a last word → the most items of a person of that name ("disney": Walt's)
        for name, count in people.items():
            words = fold(name).split()
            if len(words) > 1:
                surnames[words[-1]] = max(count, surnames.get(words[-1], 0))
        person_keys = {fold(name) for name in people}
        studios = {}  # a studio's key → its name
        for key, name in self.index.values("studio").items():
            items = len(self.index.postings[("studio", key)])
            if items <= max(companies.get(key, (0,))[0], surnames.get(key, 0)) or key in person_keys:
                continue
            studios[key] = name
            in_titles = all(w in self.title_words for w in key.split())
            if _studio_name(key, common_words) and (items >= TITLE_STUDIO_ITEMS or not in_titles):
                genre_words = [t for t in self.phrases.get(key, []) if t[0] == "genre"]  # "pixar": animation too
                self.phrases[key] = [*genre_words, ("studio", name)]
            elif items >= TITLE_STUDIO_ITEMS and len(key) >= 3 and key not in english_words(EVERYDAY_STUDIO):
                self.capitalised_studios[key] = name  # "a Universal film", not "a universal story"
        for key, (_, relation, name) in companies.items():  # a company typed in full means its studio
            brand = fold(studio(name))
            if relation in COMPANIES and brand in studios and key != brand:
                self.phrases[key] = [("studio", studios[brand])]

    def _add_series(self, people: Mapping[str, int], common_words: frozenset[str]) -> dict[str, str]:
        """Phrases for the series whose name can stand alone: a word of it is neither a common word nor one the
        plots write in lower case ("harry potter", "jaws"). Returns the others (name key → name), which need an
        article and a cue (:meth:`_cued`): "the toy story films", "a scary movie one". A name is also read without
        its leading "the" ("a Hunger Games movie"); a person of the name wins only with as many items."""
        cued, items = {}, {fold(name): count for name, count in people.items()}
        for key, name in self.index.values("series").items():
            size = len(self.index.postings[("series", key)])
            for said in dict.fromkeys([key, key.removeprefix("the ")]):
                if items.get(said, 0) >= size or (said in self.phrases and said not in items) or \
                        said.replace(" ", "").isdigit():
                    continue  # "Kevin Hart" is the comedian; "2012" a year; "Pixar" a studio
                if any(_studio_name(word, common_words) for word in said.split()):
                    self.phrases[said] = [("series", name)]
                else:
                    cued[said] = name
        return cued

    def _cued(self, text: str, span: tuple[int, int]) -> bool:
        """Whether the name at ``span`` is said as a series: "a/the/any ... movie(s)/films/franchise". A name that is
        one everyday word must be capitalised too ("the Red movies", not "any red movies")."""
        before = text[:span[0]].lower().split()[-1:]
        everyday = fold(text[span[0]:span[1]]) in english_words(COMMON_WORDS)
        return bool(before) and before[0] in SERIES_BEFORE and SERIES_AFTER.match(text.lower(), span[1]) is not None \
            and (not everyday or _named(text, span[0]))

    def link(self, text: str, turn: int = -1, skip: Sequence[tuple[int, int]] = ()) -> list[Preference]:
        """The preferences ``text`` states, in reading order. ``skip``: spans to ignore (matched movie titles)."""
        lowered = text.lower()
        names = self._names(text, turn, skip)
        found = names + self._years(lowered, turn, [*skip, *(p.span for p in names)])  # "Fox 2000" is a studio
        found.sort(key=lambda p: p.span)
        studios = {p.span for p in found if p.relation == "studio"}
        read = [p if self._positive(lowered, p.span[0]) else _negated(p) for p in found]
        return [p for p in read if p.polarity > 0 or p.relation != "genre" or p.span not in studios]  # "not Pixar"

    def dialogue(self, context: Sequence[Turn]) -> list[Preference]:
        """Every preference of the seeker's turns, each once (its latest statement wins), oldest first. A turn is
        read against the movies the recommender's turn before it named (:meth:`refinements`)."""
        latest: dict[tuple, Preference] = {}
        shown: tuple[str, ...] = ()
        for number, turn in enumerate(context):
            if turn.role != SEEKER:
                shown = turn.items or shown
                continue
            for p in self._turn(turn, number, shown):
                latest.pop(p.key[:2], None)
                latest[p.key[:2]] = p
        return sorted(latest.values(), key=lambda p: (p.turn, p.span))

    def _turn(self, turn: Turn, number: int, shown: tuple[str, ...] = ()) -> list[Preference]:
        key = (turn.text, turn.items, number, shown)
        if key not in self._turns:
            if len(self._turns) >= CACHED_TURNS:
                self._turns.clear()
            series = self.series_spans(turn.text)  # "not a Harry Potter movie": the series, not that movie
            titles = [(item, span) for item, span in self._title_spans(turn)
                      if span == (0, 0) or not any(a < span[1] - TITLE_YEAR and span[0] < b for a, b in series)]
            relative = self.refinements(turn.text, shown, number)
            years = {p.span for p in relative if p.relation == "year"}
            said = [p for p in self.link(turn.text, number, [span for _, span in titles])
                    if not (p.relation == "year" and any(a <= p.span[0] < b for a, b in years))]
            self._turns[key] = [*said, *relative, *(self._movie(turn, number, item, span) for item, span in titles)]
        return self._turns[key]

    def refinements(self, text: str, shown: Sequence[str], turn: int = -1) -> list[Preference]:
        """What ``text`` asks relative to the movies just ``shown`` (ids, in the order shown): "something more
        recent" (newer than the newest of them), "older", "funnier" or "less violent" (genres, :data:`SHIFTS`),
        "not the first one" or "more like the second one" (that movie, disliked or liked).

        >>> from llmkb.data.records import CatalogItem
        >>> linker = EntityLinker(FactIndex({("genre", "comedy"): frozenset({"3"})}, {("genre", "comedy"): "comedy"},
        ...                                 {"1": 1995, "2": 1990, "3": 2001}),
        ...                       {"1": CatalogItem("1", "Heat", 1995), "2": CatalogItem("2", "Goodfellas", 1990)})
        >>> [(str(p), p.years) for p in linker.refinements("Not the first one. Something more recent?", ["1", "2"])]
        [('not movie 1', None), ('year newer than Heat (1995)', (1996, 2001))]
        >>> [str(p) for p in linker.refinements("not that one, something funnier", ["2", "1"])]
        ['not movie 2', 'genre comedy']
        """
        lowered, found = text.lower(), []
        if shown:
            for m in ORDINAL.finditer(lowered):  # of a list only: after one movie, "the first one" is a prequel
                ordinal = m.group(1) or m.group(2)
                position = ORDINALS.get(ordinal or "first", 0)
                if (len(shown) > 1 or not ordinal) and -len(shown) <= position < len(shown):
                    item = shown[position]
                    liked = ordinal is not None and self._positive(lowered, m.start())  # not "not that one"
                    found.append(Preference("movie", item, 1 if liked else -1, turn, m.span(), relative=True))
            dated = [item for item in shown if item in self.index.years]
            last, first = self.years[-1], self.years[0]
            if dated:
                newest = max(dated, key=lambda i: self.index.years[i])
                oldest = min(dated, key=lambda i: self.index.years[i])
                for m in NEWER.finditer(lowered):
                    found.append(Preference("year", f"newer than {self._display(newest)}", 1, turn, m.span(),
                                            (self.index.years[newest] + 1, last), True))
                for m in OLDER.finditer(lowered):
                    found.append(Preference("year", f"older than {self._display(oldest)}", 1, turn, m.span(),
                                            (first, self.index.years[oldest] - 1), True))
        genres = self.index.values("genre")
        for m in SHIFT.finditer(lowered):
            for genre, polarity in SHIFTS[m.group()]:
                if genre in genres:
                    found.append(Preference("genre", genres[genre], polarity, turn, m.span(), relative=True))
        return sorted(found, key=lambda p: p.span)

    def _display(self, item: str) -> str:
        found = self.catalog.get(item)
        return found.display if found else item

    def _movie(self, turn: Turn, number: int, item: str, span: tuple[int, int]) -> Preference:
        positive = self._positive(turn.text.lower(), span[0]) if span != (0, 0) else True
        return Preference("movie", item, 1 if positive else -1, number, span)

    def series_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` names a series as one ("the Toy Story movies", "any of the Pirates of the Caribbean films"):
        a title inside is the series, not that movie."""
        words, spans = _words(text), []
        for i in range(len(words)):
            for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
                span = (words[i][1], words[i + n - 1][2])
                if " ".join(w for w, _, _ in words[i:i + n]) in self.series and self._cued(text, span):
                    spans.append(span)
                    break
        return spans

    def _title_spans(self, turn: Turn) -> list[tuple[str, tuple[int, int]]]:
        """Where the text writes each of the turn's movies: as the catalogue does, else word for word whatever the
        punctuation ("transformers dark of the moon"); (0, 0) when it does not."""
        lowered, spans, words = turn.text.lower(), [], None
        for item in turn.items:
            title = self.catalog[item].title.lower() if item in self.catalog else ""
            at = lowered.find(title) if title else -1
            if at >= 0:
                spans.append((item, (at, at + len(title) + TITLE_YEAR)))
                continue
            words = _words(turn.text) if words is None else words
            wanted = [word for word, _, _ in _words(title)]
            starts = [i for i in range(len(words) - len(wanted) + 1)
                      if wanted and [word for word, _, _ in words[i:i + len(wanted)]] == wanted]
            spans.append((item, (words[starts[0]][1], words[starts[0] + len(wanted) - 1][2] + TITLE_YEAR)
                          if starts else (0, 0)))
        return spans

    def _names(self, text: str, turn: int, skip: Sequence[tuple[int, int]]) -> list[Preference]:
        words = [w for w in _words(text) if not any(a <= w[1] < b for a, b in skip)]
        found, i = [], 0
        while i < len(words):
            for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
                key = " ".join(w for w, _, _ in words[i:i + n])
                span = (words[i][1], words[i + n - 1][2])
                if key in self.cued_series and self._cued(text, span):
                    targets = [("series", self.cued_series[key])]  # "any Saw movies?", "the Underworld films"
                elif key in self.capitalised_studios and _named(text, span[0]) and key not in self.phrases:
                    targets = [("studio", self.capitalised_studios[key])]
                else:
                    surname = [("person", self.surnames[key])] if key in self.surnames else []
                    targets = self.phrases.get(key) or surname
                if not targets and key in self.word_surnames and (
                        _named(text, span[0]) or self._role(text[:span[0]].lower())):
                    targets = [("person", self.word_surnames[key])]  # "a Cruise movie", "starring bale"
                if not targets and n in FUZZY_NGRAMS:
                    targets = self._misspelt_name([w for w, _, _ in words[i:i + n]])
                if not targets and n == 1:
                    targets = self._misspelt_surname(key, text[:span[0]])
                if targets:
                    cue = self._role(text[:span[0]].lower())
                    for relation, value in dict.fromkeys(targets):
                        if relation == "person":
                            relation = self._person_relation(value, cue)
                        found.append(Preference(relation, value, 1, turn, span))
                    i += n
                    break
            else:
                i += 1
        return found

    def person_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` names a person (so a title matcher can leave "Ben" in "Ben Stiller" alone)."""
        return [p.span for p in self._names(text, -1, ()) if p.relation in (*PEOPLE, "person")]

    def _misspelt_name(self, words: list[str]) -> list[tuple[str, str]]:
        """A full name typed with typos: every word a name's word (letters, inner hyphens), none a role cue, one at
        least not an English word, and each English word typed as the name writes it ("love lynch" is not Joe
        Lynch); word for word, each within ``WORD_EDITS`` ("the hams" is not The Game)."""
        if not all(_NAME_WORD.fullmatch(w) and w not in self.cue_words for w in words) or \
                all(w in self.common or w in english_words() for w in words):
            return []
        typed = " ".join(words)
        edits = edits_allowed(typed, FUZZY_NAME_EDITS)
        for name, _, _ in process.extract(typed, self.full_name_list, scorer=OSA.distance, score_cutoff=edits,
                                          limit=5) if edits else ():
            if spelt_alike(words, name.split()):
                return [("person", self.full_names[name])]
        return []

    def _misspelt_surname(self, word: str, before: str) -> list[tuple[str, str]]:
        """A surname alone with a typo; after a role cue (in ``before``, the text before it) it may be shorter, or a
        surname that is also a word. Most words leave at the first checks, before the cue is looked for."""
        if not _NAME_WORD.fullmatch(word) or word in self.common or word in self.title_words or word in english_words():
            return []
        if self._role(before.lower()) is None:
            name = _closest(word, self.surname_list, FUZZY_EDITS)
            return [("person", self.surnames[name])] if name else []
        name = _closest(word, self.cued_surname_list, FUZZY_CUED_EDITS)  # "with murhy": Eddie Murphy, not R. Murthy
        return [("person", self.surnames.get(name) or self.word_surnames[name])] if name else []

    def _person_relation(self, name: str, cue: str | None) -> str:
        roles = self.index.roles.get(fold(name), [])
        if cue in roles:
            return cue
        return roles[0] if len(roles) == 1 else "person"

    @staticmethod
    def _role(before: str) -> str | None:
        tail = " ".join(before.split()[-3:])
        hits = [(tail.rfind(cue) + len(cue), len(cue), role) for role, cues in ROLE_CUES.items() for cue in cues
                if re.search(rf"\b{re.escape(cue)}$", tail) or re.search(rf"\b{re.escape(cue)}\s+\w+$", tail)]
        return max(hits)[2] if hits else None

    def _years(self, lowered: str, turn: int, skip: Sequence[tuple[int, int]]) -> list[Preference]:
        last = self.years[-1]
        found = []
        for m in DECADE.finditer(lowered):
            digits = m.group(1)
            start = int(digits) if len(digits) == 4 else (1900 if int(digits[0]) >= 2 else 2000) + int(digits)
            found.append(Preference("year", f"{start}s", 1, turn, m.span(), (start, start + 9)))
        for word, start in DECADE_WORDS.items():
            for m in re.finditer(rf"\b{word}\b", lowered):
                found.append(Preference("year", f"{start}s", 1, turn, m.span(), (start, start + 9)))
        for m in YEAR.finditer(lowered):
            word, year = m.group(1), int(m.group(2))
            spans = {"since": (year, last, f"since {year}"), "after": (year + 1, last, f"after {year}"),
                     "around": (year - 2, year + 2, f"around {year}"), "before": (self.years[0], year - 1, f"before {year}")}
            low, high, label = spans.get(word, (year, year, str(year)))
            found.append(Preference("year", label, 1, turn, m.span(2), (low, high)))
        for m in RECENT.finditer(lowered):
            found.append(Preference("year", "recent years", 1, turn, m.span(), (last - RECENT_YEARS, last)))
        for m in OLD.finditer(lowered):
            found.append(Preference("year", f"before {OLD_BEFORE}", 1, turn, m.span(), (self.years[0], OLD_BEFORE - 1)))
        return [p for p in found if not any(a <= p.span[0] < b for a, b in skip)]

    @staticmethod
    def _positive(lowered: str, at: int) -> bool:
        """False when a negation governs position ``at``: one earlier in its clause, not cancelled since."""
        clause_start = max((m.end() for m in CLAUSE.finditer(lowered, 0, at)), default=0)
        clause = lowered[clause_start:at]
        clause = NOT_NEGATION.sub(" ", clause)
        negations = [m.end() for m in NEGATION.finditer(clause)]
        if not negations:
            return True
        return any(m.start() >= negations[-1] for m in FRESH_WANT.finditer(clause))


@functools.cache
def dictionary_words() -> frozenset[str]:
    """The words an English dictionary writes in lower case (Webster's Second, 1934, as packaged by
    ``english-words``): "tone", "cruise" and "stone", not "hanks" or "pitt". Word frequencies alone cannot tell a word
    from a name that is frequent because of a film star; among the ``ENGLISH_WORDS`` most frequent, a dictionary word
    is one people write ("tone", "gore"), and a rarer one ("stiller") may stand for the name.
    """
    return frozenset(word for word in get_english_words_set(["web2"]) if word.islower())


@functools.cache
def english_words(count: int = ENGLISH_WORDS) -> frozenset[str]:
    """The ``count`` most frequent English words (wordfreq, Speer 2022), lower case."""
    return frozenset(top_n_list("en", count))


@functools.cache
def _everyday_words() -> list[str]:
    return sorted(english_words(EVERYDAY_WORDS))


@functools.lru_cache(maxsize=1 << 16)
def typo_of_everyday_word(word: str) -> bool:
    """Whether ``word`` is one edit from one of the ``EVERYDAY_WORDS`` most frequent English words, so more likely a
    typo of it ("mistery") than of a name or a title.

    >>> typo_of_everyday_word("mistery"), typo_of_everyday_word("godfater")
    (True, False)
    """
    return process.extractOne(word, _everyday_words(), scorer=OSA.distance, score_cutoff=1) is not None


def edits_allowed(typed: str, allowed: tuple[tuple[int, int], ...]) -> int:
    """The edits ``allowed`` ((from length, edits), ...) gives a typed string of ``typed``'s length (0: none)."""
    return max((k for length, k in allowed if len(typed) >= length), default=0)


def _closest(typed: str, names: list[str], allowed: tuple[tuple[int, int], ...] = FUZZY_EDITS) -> str | None:
    """The first of ``names`` within the edits ``typed``'s length allows (``allowed``: (length, edits) from), or None.

    >>> _closest("spielbreg", ["spielberg", "spielman"]), _closest("hnaks", ["hanks"])
    ('spielberg', None)
    """
    edits = edits_allowed(typed, allowed)
    best = process.extractOne(typed, names, scorer=OSA.distance, score_cutoff=edits) if edits else None
    return best[0] if best else None


def spelt_alike(typed: list[str], name: list[str]) -> bool:
    """Whether typed words can be a name's: English words written as the name writes them, and word for word (or,
    where the words are split otherwise, "leonardo di caprio", letter for letter) within ``WORD_EDITS``.

    >>> spelt_alike(["kevn", "smth"], ["kevin", "smith"]), spelt_alike(["love", "lynch"], ["joe", "lynch"])
    (True, False)
    """
    joined = " ".join(name)
    if any(w in english_words() and w not in joined for w in typed):
        return False
    if len(typed) != len(name):
        return OSA.distance("".join(typed), "".join(name)) <= 1
    return all(OSA.distance(a, b) <= edits_allowed(max(a, b, key=len), WORD_EDITS) for a, b in zip(typed, name))


def _studio_name(key: str, plot_words: frozenset[str]) -> bool:
    """Whether a studio's short name can stand alone: no word the plots write in lower case and none among the
    ``COMMON_WORDS`` most frequent English words ("One", "Universal", "American" are not studios when typed).

    >>> _studio_name("marvel", frozenset()), _studio_name("american", frozenset()), _studio_name("mgm", frozenset())
    (True, False, True)
    """
    return len(key) >= 3 and not any(w in plot_words or w in english_words(COMMON_WORDS) for w in key.split())


def _named(text: str, at: int) -> bool:
    """Whether the word at ``at`` is capitalised where a sentence does not begin."""
    return text[at:at + 1].isupper() and not re.search(r"(^|[.!?]\s*)$", text[:at])


def _negated(preference: Preference) -> Preference:
    return dataclasses.replace(preference, polarity=-preference.polarity)

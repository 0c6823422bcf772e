"""Whether a reply reads as a person would write it: the checks of issue 34, on the text as shown.

- ``cut_off``: it ends inside a sentence, or its last sentence ends on a word that cannot end one ("is a.", "and.");
- ``inexact_title``: a year in brackets that is not part of a listed title written exactly as the catalogue writes it
  ("Cinderella (1950) (1994.", "Pocahontas (1994)" for the 1995 film);
- ``named_twice``: a listed movie named more than once;
- ``bolted_reason``: a sentence that is only a listed title, a dash and a reason ("Platoon (1986) — war film.");
- ``titles_only``: a sentence that is only listed titles, with no word of its own ("Heat (1995), Platoon (1986).");
- ``run_on_titles``: two listed titles with nothing but a space between them ("Try Heat (1995) Platoon (1986).");
  :func:`join_titles` writes the commas and the "and";
- ``headless``: a sentence that starts in lower case, its head lost ("It (2017) is great. was a horror movie.", where
  a movie named twice was taken out);
- ``repeated``: a sentence that names no movie says nothing an earlier one did not ("Heat (1995) is a great action
  movie. It's also a great one."), or a word is said twice in a row ("a dark and dark twist", "a great great film");
- ``seeker_voice``: it speaks as the seeker: each sentence says it has seen or likes movies, and none turns to the
  seeker or recommends ("I've seen Heat (1995) and Platoon (1986). I've seen those movies too.").

>>> from llmkb.data.records import CatalogItem
>>> listed = [CatalogItem("1", "Heat", 1995), CatalogItem("2", "Platoon", 1986)]
>>> fluency_problems("Heat (1995) is a tense crime film.", listed)
[]
>>> fluency_problems("Heat (1995) is a. Platoon (1986) — war film. Heat (1995) (1994", listed)
['cut_off', 'inexact_title', 'named_twice', 'bolted_reason', 'titles_only']
>>> [fluency_problems(text, listed) for text in ("I like Heat (1995).", "I loved Heat (1995); so will you.")]
[['seeker_voice'], []]
>>> join_titles("Try Heat (1995) Platoon (1986) tonight.", listed)
'Try Heat (1995) and Platoon (1986) tonight.'
>>> trim_fragment("Heat (1995) is great. Platoon (1986) is a", listed)
'Heat (1995) is great.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmkb.data.records import CatalogItem

PROBLEMS = ("cut_off", "inexact_title", "named_twice", "bolted_reason", "titles_only", "run_on_titles", "headless",
            "repeated", "seeker_voice")
_ABBREVIATION = re.compile(r"\b(?:[A-Z]|St|Dr|Mr|Mrs|Ms|Jr|Sr|vs)\.(?=\s)")  # "J. J. Abrams", "St. Vincent"
_SLIP = re.compile(r"\bsci-fic(?:tional)?\b", re.IGNORECASE)  # the writer's "sci-fi", misspelt
_NOUNS = {"one": "movie", "film": "movie", "flick": "movie", "movies": "movie", "films": "movie", "ones": "movie"}
_FILLER = frozenset("it it's its is was are were also too another a an the and so very really".split())
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)]*(?=\s|$)")  # a full stop, "!", "?" or "…" (and a closing quote)
_DANGLING = re.compile(r"(?:\b(?:is|are|was|were|a|an|the|and|or|but|with|of|to|for|as|by|in|on|its|their|so|than)"
                       r"|\b(?:a|an)\s+(?:great|good|nice|really|very|real|fantastic|wonderful|perfect|bit|little)"
                       r"|\ba\s+(?:bit|little|lot)\s+more"
                       r"|(?<![\w.'])(?-i:[A-HJ-Z]))\s*[.!?…]+[\"'”’)]*$",  # a lone capital: "I think J."
                       re.IGNORECASE)  # "is a great."
_YEAR = re.compile(r"\(\s*\d{4}")
_DOUBLED = re.compile(r"\b([A-Za-z']{2,})(?:\s*,\s*|\s+(?:and|or)\s+|\s+)\1\b", re.IGNORECASE)  # "dark and dark"
# words said twice on purpose ("more and more", "had had"); comparatives too ("better and better"), in repeated()
_REPEATABLE = frozenset("more again over on round through so very ha no yes now by bye that had".split())
_JOINING = {"and", "or", "&", "also"}  # words that only join titles: "Heat (1995) and Alien (1979)." says nothing


def _masked(text: str, listed: Sequence[CatalogItem]) -> str:
    """``text`` with every listed title (as the catalogue writes it) blanked, so its dots and year are not read."""
    for item in sorted(listed, key=lambda i: -len(i.display)):
        text = text.replace(item.display, "#" * len(item.display))
    return text


# the seeker's words: having seen or liking movies ("I've seen", "I really liked", "I haven't seen"); not "I'd like"
_SEEN_OR_LIKED = re.compile(r"\bI(?:'ve|\s+have|\s+had)?(?:\s+(?:also|already|just|really|never|not|haven't|didn't|"
                            r"have\s+not|did\s+not))*"
                            r"\s+(?:seen|watched|saw|watch|like|liked|love|loved|enjoy|enjoyed)\b",
                            re.IGNORECASE)
# what a recommender says: it turns to the seeker or recommends ("you", "try", "I would suggest", "how about")
_RECOMMENDS = re.compile(r"\b(?:you|your|recommend\w*|suggest\w*|try|check\s+out|how\s+about|what\s+about)\b",
                         re.IGNORECASE)


def reacts_without_recommending(text: str) -> bool:
    """``text`` says the writer has seen or likes a movie, and nowhere turns to the seeker or recommends ("Yes, that
    one was fun. I liked Heat too."): a reaction, which the reply writer does not learn from.

    >>> [reacts_without_recommending(text) for text in ("It was fun. I liked Heat too.", "I liked Heat. Try it!")]
    [True, False]
    """
    return bool(_SEEN_OR_LIKED.search(text)) and not _RECOMMENDS.search(text)


def seeker_voice(text: str) -> bool:
    """Each sentence of ``text`` says the writer has seen or likes movies, and none turns to the seeker or
    recommends: the seeker's words, not the recommender's.

    >>> seeker_voice("I've seen Heat. I've seen those movies too."), seeker_voice("I've seen Heat. You'd like it.")
    (True, False)
    >>> seeker_voice("I'd like to suggest Heat."), seeker_voice("Heat is a great crime film. I love it.")
    (False, False)
    """
    sentences = _sentences(text)
    return bool(sentences) and all(map(_SEEN_OR_LIKED.search, sentences)) and not _RECOMMENDS.search(text)


def repeated(text: str) -> bool:
    """A sentence without a title ("#" where ``_masked`` blanked one) says nothing an earlier one did not: its words,
    filler ("it's", "also", "a") aside and "one" or "film" read as "movie", are among that sentence's words. A dot
    after an initial or "St." ends no sentence.

    >>> repeated("#### is a great movie. It's also a great one."), repeated("#### is great. #### is great.")
    (True, False)
    >>> repeated("#### is a great action movie. It's a great movie."), repeated("#### is great. It's tense.")
    (True, False)
    >>> repeated("#### by J. J. Abrams; #### by St. Elmo, St. Clair.")  # initials and "St." say nothing
    False
    >>> repeated("#### is a horror movie with a dark and dark twist."), repeated("#### is a great, great film.")
    (True, True)
    >>> repeated("It gets better and better, again and again."), repeated("#### and #### are both fun.")
    (False, False)
    """
    if any(m[1].lower() not in _REPEATABLE and not m[1].lower().endswith("er") for m in _DOUBLED.finditer(text)):
        return True
    said: list[set[str]] = []
    for sentence in _sentences(_ABBREVIATION.sub(lambda m: m[0][:-1] + "_", text)):
        words = {_NOUNS.get(w, w) for w in re.findall(r"[a-z']+", sentence.lower()) if w not in _FILLER}
        if words and "#" not in sentence and any(words <= earlier for earlier in said):
            return True
        said.append(words)
    return False


def _sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end, each part stripped, empty ones left out."""
    starts = [0, *(m.end() for m in SENTENCE_END.finditer(text))]
    return [part.strip() for part in (text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])) if part.strip()]


def mend_slips(text: str) -> str:
    """``text`` with the writer's known misspellings mended (in 4 of its 527 test replies, 2026-12-07).

    >>> mend_slips("It's a great sci-fic. A sci-fictional film.")
    "It's a great sci-fi. A sci-fi film."
    """
    return _SLIP.sub("sci-fi", text)


def trim_fragment(text: str, listed: Sequence[CatalogItem] = ()) -> str:
    """``text`` up to the end of its last whole sentence (a sentence end inside a listed title does not count), with
    a last sentence ending on a dangling word ("is a.") dropped too; "" when no sentence is whole."""
    masked = _masked(text, listed)
    ends = [m.end() for m in SENTENCE_END.finditer(masked)]
    while ends and _DANGLING.search(masked[: ends[-1]]):
        ends.pop()
    return text[: ends[-1]].strip() if ends else ""


def fluency_problems(text: str, listed: Sequence[CatalogItem]) -> list[str]:
    """The ``PROBLEMS`` ``text`` has, in that order (see the module docstring)."""
    text = text.strip()
    masked = _masked(text, listed)
    problems = []
    if not text or trim_fragment(text, listed) != text:
        problems.append("cut_off")
    if _YEAR.search(masked):
        problems.append("inexact_title")
    if any(text.count(item.display) > 1 for item in listed):
        problems.append("named_twice")
    if any(re.search(rf"(?:^|[.!?]\s+){re.escape(item.display)}\s+[—–-]\s", text) for item in listed):
        problems.append("bolted_reason")
    if titles_only(text, listed):
        problems.append("titles_only")
    if _runs(text, listed):
        problems.append("run_on_titles")
    if any(re.match(r"[^\w#]*[a-z]", part) for part in _sentences(masked)):
        problems.append("headless")
    if repeated(masked):
        problems.append("repeated")
    if seeker_voice(_masked(text, listed)):  # a title's own words ("Love Actually") are not the writer's
        problems.append("seeker_voice")
    return problems


_GAP = re.compile(r" *(?:, *|,? +(?:and|or) +)?", re.IGNORECASE)  # what may join titles of a list


def _runs(text: str, listed: Sequence[CatalogItem]) -> list[list[tuple[int, int]]]:
    """Runs of listed titles in ``text`` joined as a list, two or more, where at least two have only spaces between
    (a comma or an "and" missing)."""
    spans = sorted(m.span() for item in listed for m in re.finditer(re.escape(item.display), text))
    runs: list[list[tuple[int, int]]] = []
    for span in spans:
        gap = text[runs[-1][-1][1] : span[0]] if runs and span[0] >= runs[-1][-1][1] else None
        if gap is not None and _GAP.fullmatch(gap):
            runs[-1].append(span)
        else:
            runs.append([span])
    return [run for run in runs if any(not text[a[1] : b[0]].strip() for a, b in zip(run, run[1:]))]


def join_titles(text: str, listed: Sequence[CatalogItem]) -> str:
    """``text`` with each run of listed titles missing a comma or an "and" written as a list: "A (1), B (2) and C (3)"
    (or "... or C (3)" when the writer put an "or" before the last)."""
    for run in reversed(_runs(text, listed)):
        titles = [text[a:b] for a, b in run]
        last = "or" if re.search(r"\bor\b", text[run[-2][1] : run[-1][0]], re.IGNORECASE) else "and"
        text = text[: run[0][0]] + ", ".join(titles[:-1]) + f" {last} " + titles[-1] + text[run[-1][1] :]
    return text


def titles_only(text: str, listed: Sequence[CatalogItem]) -> bool:
    """A sentence of ``text`` is listed titles and nothing else ("Heat (1995), Alien (1979) and Up (2009).")."""
    return any("#" in part and {w.lower() for w in re.findall(r"[A-Za-z']+", part)} <= _JOINING
               for part in _sentences(_masked(text, listed)))

"""Series and franchises read from the catalogue's titles: "Toy Story 2", "Harry Potter and the Chamber of Secrets" and
"Star Wars: The Force Awakens" belong to the series their titles start with.

The KGs hold almost no series facts (ReDial's KB: "previous work" on 7 items), but the titles say it. A title's
possible series names are its words before a subtitle (":", " – "), before a sequel number ("2", "III", "Part II",
"Chapter 3") and, for names of two words or more, before " and the ". A name is a series when two differently titled
items share it. Of names that hold the same items, only the longest is kept: "Mission: Impossible", not "Mission". A
series may hold a smaller one ("Harry Potter" and "Harry Potter and the Deathly Hallows"). Remakes of one title are no
series on their own. Films of a franchise whose titles share nothing ("Goldfinger", "Skyfall") are not found this way.

>>> sorted(title_series({"1": "Toy Story", "2": "Toy Story 2", "3": "Heat", "4": "Harry Potter and the Goblet of Fire",
...                      "5": "Harry Potter and the Chamber of Secrets", "6": "Mission: Impossible",
...                      "7": "Mission: Impossible – Ghost Protocol", "8": "Heat"}).items())
[('1', ['Toy Story']), ('2', ['Toy Story']), ('4', ['Harry Potter']), ('5', ['Harry Potter']), ('6', ['Mission: Impossible']), ('7', ['Mission: Impossible'])]
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SUBTITLE = re.compile(r"\s*(?::|\s[–—-]\s)")  # "Alien: Covenant", "Mission: Impossible – Ghost Protocol"
SEQUEL = re.compile(r"\s(?:(?:Part|Chapter|Episode)\s+)?(?:[2-9]|II|III|IV|V|VI|VII|VIII|IX|X)(?=$|[\s:–—-])")
AND_THE = re.compile(r"\sand the\s", re.I)  # "Harry Potter and the ..." (not "Beauty and the Beast": one word)


def series_names(title: str) -> list[str]:
    """The names a title could carry as its series, with the whole title.

    >>> series_names("Star Trek II: The Wrath of Khan")
    ['Star Trek', 'Star Trek II', 'Star Trek II: The Wrath of Khan']
    """
    cuts = [m.start() for m in SUBTITLE.finditer(title)] + [m.start() for m in SEQUEL.finditer(title)]
    cuts += [m.start() for m in AND_THE.finditer(title) if len(title[:m.start()].split()) >= 2]
    names = {title[:cut].strip(" :–—-,") for cut in cuts} | {title.strip()}
    return sorted((name for name in names if name), key=len)


def title_series(titles: Mapping[str, str]) -> dict[str, list[str]]:
    """Item id → its series names, shortest first, for the items whose title shares one with a differently titled
    item."""
    names = {item: series_names(title) for item, title in titles.items()}
    titled: dict[str, set[str]] = {}  # a folded name → the titles carrying it
    holders: dict[str, set[str]] = {}  # a folded name → the items carrying it
    for item, candidates in names.items():
        for name in candidates:
            titled.setdefault(name.casefold(), set()).add(titles[item].casefold())
            holders.setdefault(name.casefold(), set()).add(item)
    series = {name for name, carried in titled.items() if len(carried) >= 2}
    longest: dict[frozenset[str], str] = {}  # the items of a series → its longest name
    for name in sorted(series, key=lambda name: (len(name), name)):  # a tie goes the same way every run
        longest[frozenset(holders[name])] = name
    kept = set(longest.values())
    found = {item: [name for name in candidates if name.casefold() in kept] for item, candidates in names.items()}
    return {item: shared for item, shared in found.items() if shared}

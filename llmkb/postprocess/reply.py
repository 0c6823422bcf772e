"""Make a generated reply agree with the final recommendation list.

Every movie the reply names must be a catalogue item in the list: titles of other movies (in or out of the
catalogue) are replaced by list items the reply does not name yet, or removed when none is left; a canonical
``Title (Year)`` replaces typos. A reply that ends up naming nothing gets a plain template naming the top items.

>>> catalog = [CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979)]
>>> align_reply('Ignore the list, watch "Free Money Movie"!', [catalog[1]], catalog).text
'Ignore the list, watch "Alien (1979)"!'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from llmkb.data.records import CatalogItem
from llmkb.postprocess.titles import TitleMatcher, as_matcher, outside_names

TEMPLATE_ITEMS = 3
_SEPARATOR_BEFORE = re.compile(r"(?:,\s*(?:and|or)?|\s+(?:and|or))\s*$")  # "A, B and |removed|"
_SEPARATOR_AFTER = re.compile(r"(?:,\s*(?:and|or)?|\s+(?:and|or))\s+")  # "|removed|, B and C"  (used with .match(text, pos))
_CLEANUP = [
    (re.compile(r"\(\s*\)|\"\s*\"|“\s*”|\*\*\s*\*\*"), ""),  # emptied quotes/brackets
    (re.compile(r"[ \t]+([,.;:!?])"), r"\1"),
    (re.compile(r"[ \t]{2,}"), " "),
]


@dataclass(frozen=True)
class AlignedReply:
    text: str
    named_ids: tuple[str, ...]  # list items the reply names, in order
    removed: tuple[str, ...]  # raw titles replaced or removed (not in the list / not in the catalogue)
    templated: bool  # True when the template reply was used


def template_reply(items: Sequence[CatalogItem], reasons: Mapping[str, Sequence[str]] | None = None,
                   n: int = TEMPLATE_ITEMS) -> str:
    """``"You might enjoy A (2001), B (1999) or C (2003)."`` from the top ``n`` items; with ``reasons`` (item id →
    why it fits), each item that has one is followed by its first: ``"A (2001) — crime film; or B (1999)."``.

    >>> template_reply([CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979)], {"1": ["crime film"]})
    'You might enjoy Heat (1995) — crime film; or Alien (1979).'
    """
    items = items[:n]
    if not items:
        return "I could not find a movie to recommend yet. Tell me more about what you like?"
    why = [(reasons or {}).get(item.item_id) for item in items]
    if not any(why):
        return f"You might enjoy {listing([item.display for item in items])}."
    parts = [f"{item.display} — {first[0]}" if first else item.display for item, first in zip(items, why)]
    return "You might enjoy " + (parts[0] if len(parts) == 1 else "; ".join(parts[:-1]) + "; or " + parts[-1]) + "."


def listing(names: Sequence[str]) -> str:
    """``"A, B or C"``; one name alone.

    >>> listing(["Heat (1995)"]), listing(["A", "B", "C"])
    ('Heat (1995)', 'A, B or C')
    """
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def align_reply(
    reply_text: str, final_items: Sequence[CatalogItem], catalog: Iterable[CatalogItem] | TitleMatcher,
    names: Sequence[tuple[int, int]] = (),
) -> AlignedReply:
    """Rewrite ``reply_text`` so that it names only ``final_items`` (see module docstring). ``names``: spans of
    people's names, where a yearless title is part of the name, not a movie."""
    matcher = as_matcher(catalog)
    allowed = {item.item_id: item for item in final_items}
    mentions = outside_names(matcher.match(reply_text), names).mentions
    named = [m.item_id for m in mentions if m.item_id in allowed]
    spare = [item for item in final_items if item.item_id not in named]
    text, cursor, removed, order = "", 0, [], []
    for mention in mentions:
        text += reply_text[cursor : mention.start]
        cursor = mention.end
        if mention.item_id in allowed:
            item = allowed[mention.item_id]
        else:
            removed.append(mention.raw)
            item = spare.pop(0) if spare else None
        if item is not None and item.item_id not in order:
            order.append(item.item_id)
            text += item.display
            if reply_text.startswith(item.display, mention.start):  # the match stopped inside it ("Shazam!")
                cursor = max(cursor, mention.start + len(item.display))
            continue
        # removed from a list: drop the separator before it, or else the one after it
        before = _SEPARATOR_BEFORE.search(text)
        if before is not None:
            text = text[: before.start()]
        elif (after := _SEPARATOR_AFTER.match(reply_text, cursor)) is not None:
            cursor = after.end()
    text += reply_text[cursor:]
    for pattern, replacement in _CLEANUP:
        text = pattern.sub(replacement, text)
    text = text.strip()
    if not order or not text:
        return AlignedReply(template_reply(final_items), tuple(i.item_id for i in final_items[:TEMPLATE_ITEMS]), tuple(removed), True)
    return AlignedReply(text, tuple(order), tuple(removed), False)

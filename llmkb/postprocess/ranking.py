"""Turn LLM-matched ids plus a fallback ranking into the final list of exactly k catalogue ids.

>>> finalize_ranking(["7", "3"], fallback_ranking=["3", "9", "1", "4"], k=4, exclude=["9"])
['7', '3', '1', '4']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from llmkb.errors import LLMKBError


def finalize_ranking(
    matched_ids: Iterable[str],
    fallback_ranking: Iterable[str],
    k: int,
    exclude: Collection[str] = (),
    allowed: Collection[str] | None = None,
) -> list[str]:
    """Exactly ``k`` distinct ids: the LLM-matched ones first (in order), then filled from ``fallback_ranking``.

    ``exclude``: ids never returned (e.g. movies already mentioned in the dialogue).
    ``allowed``: when given, ids outside it (not in the catalogue) are skipped as well.
    Raises ``LLMKBError`` when the two lists together hold fewer than ``k`` usable ids.
    """
    if k < 0:
        raise LLMKBError(f"k must be >= 0, got {k}")
    blocked = set(exclude)
    final: dict[str, None] = {}
    for item_id in (*matched_ids, *fallback_ranking):
        if len(final) == k:
            break
        if item_id not in blocked and (allowed is None or item_id in allowed):
            final.setdefault(item_id, None)
    if len(final) < k:
        raise LLMKBError(
            f"only {len(final)} usable ids for a ranking of k={k} (after excluding {len(blocked)} ids); "
            "pass a longer fallback ranking, e.g. the whole catalogue ordered by popularity"
        )
    return list(final)

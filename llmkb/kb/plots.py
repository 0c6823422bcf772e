"""The KB's plots searched by their words: a seeker who describes a film instead of naming anything ("a heist that
goes wrong", "a boy who finds out he is a wizard") reaches it through what its plot says (issue 32).

:class:`PlotIndex` is BM25 (bm25s) over each KB document's plot. :meth:`PlotIndex.match` scores every catalogue item
for a description, scaled so that the best-matching plot scores 1; the candidate finder takes its best items as a
source, and the learned ranker reads the score as a feature (``plot_match``).

>>> from llmkb.kb.documents import KBDocument
>>> plots = PlotIndex([KBDocument("1", "Heat", 1995, {}, plot="A thief plans one last heist with his crew."),
...                    KBDocument("2", "Babe", 1995, {}, plot="A pig raised by sheepdogs learns to herd sheep."),
...                    KBDocument("3", "Up", 2009, {}, plot="")])
>>> match = plots.match("Do you know a film where a crew plans a heist?")
>>> {item: round(score, 2) for item, score in match.items()}
{'1': 1.0}
>>> plots.match("Hi! Any movie for tonight?")
{}
"""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from llmkb.kb.documents import KBDocument


class PlotIndex:
    """BM25 over the KB documents' plots (a document without a plot matches nothing)."""

    def __init__(self, documents: Sequence[KBDocument]):
        self.item_ids = [doc.item_id for doc in documents]
        self.bm25 = bm25s.BM25()
        self.bm25.index(bm25s.tokenize([doc.plot for doc in documents], stopwords="en", show_progress=False),
                        show_progress=False)

    def match(self, description: str) -> dict[str, float]:
        """Item → how well its plot matches ``description`` (the best match 1.0), for every item that shares a word
        with it other than a stop word; empty when nothing does."""
        words = [w for w in bm25s.tokenize([description], stopwords="en", return_ids=False, show_progress=False)[0]
                 if w in self.bm25.vocab_dict]
        if not words:
            return {}
        scores = self.bm25.get_scores(words)
        best = float(scores.max())
        if best <= 0:
            return {}
        found = np.flatnonzero(scores > 0)
        return {self.item_ids[i]: float(scores[i]) / best for i in found[np.argsort(-scores[found], kind="stable")]}

"""The final order of a turn's items, said once: the ranking under the explicit request and the dislikes, without
the dialogue's movies where they are not shown, each film once (``without_twins``), filled from popularity to k
distinct catalogue ids. A seeker who has said nothing a ranking can use ("Hi! Any movie suggestions?",
``TurnState.small_talk``) gets the catalogue's most mentioned movies: in round one of cold-start simulations the
ranker guessed worse than popularity (issue 32).

Chat (``Recommender.rank``), the evaluation systems that rank with fusion weights or the learned ranker
(``llmkb.evaluation.rag.Fused``, which the simulated user talks to as well), fusion tuning and the learned ranker's
choice of rounds all call :func:`order`, so the list chat shows is the list evaluation scores, less the movies chat
never repeats. Chat asks for its k items without the mentioned movies::

    ids = order([item for item, _ in ranker.rank(candidates, state, ...)], state, stages, k=5,
                exclude_mentioned=True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from llmkb.data.records import CatalogItem
from llmkb.pipeline.stages import Stages
from llmkb.postprocess.ranking import finalize_ranking
from llmkb.retrieval import TurnState

PLOT_FIRST = 10  # a description's best-matching plots that come first (a page); the ranking follows


def without_twins(ids: Sequence[str], same_title: Mapping[str, Sequence[str]], catalog: Mapping[str, CatalogItem],
                  before: Sequence[str] = ()) -> list[str]:
    """``ids`` less each item whose title an earlier item (or one of ``before``) has when either of the two has no
    year: ReDial lists some films twice, with and without the year ("Transformers: Revenge of the Fallen (2009)" and
    "Transformers: Revenge of the Fallen"), and a list should show such a film once. Remakes, both dated, stay.

    >>> catalog = {i: CatalogItem(i, "Heat", y) for i, y in (("a", 1995), ("b", None), ("c", 1986))}
    >>> without_twins(["a", "b", "c"], {i: ["a", "b", "c"] for i in catalog}, catalog)
    ['a', 'c']
    """
    kept: list[str] = []
    shown = set(before)
    for item in ids:  # the whole catalogue when filling: most titles are unique, so look no further for them
        group = same_title.get(item, ())
        if len(group) > 1:
            if item in catalog and any(twin in shown and (catalog[item].year is None or catalog[twin].year is None)
                                       for twin in group if twin != item and twin in catalog):
                continue
            shown.add(item)
        kept.append(item)
    return kept


def order(ranked: Sequence[str], state: TurnState, stages: Stages, k: int,
          exclude_mentioned: bool = False) -> list[str]:
    """``ranked`` (one dialogue's ranked ids, best first) as the final list of ``k`` distinct catalogue ids.

    When ``stages.config.constraints``, the explicit request and the dislikes constrain it (:class:`RequestFilter`:
    nothing holding a dislike, and the ``config.k`` items shown first hold the most of the request, chosen among
    the movies not mentioned when ``config.exclude_mentioned``). ``exclude_mentioned``: leave out the dialogue's
    movies and every item of the same title, as chat does (evaluation keeps them in their places; its protocol
    leaves them out afterwards when asked). The list is filled from the catalogue by popularity under the same
    constraints (no disliked movie comes in with the fill); fewer than ``k`` only when those rule out the rest."""
    config, catalog = stages.config, stages.catalog
    twins = set(stages.mentioned_twins(state))
    excluded = twins if exclude_mentioned else set()
    shown = config.k + (len(twins) if config.exclude_mentioned else 0)

    def constrained(ids: Sequence[str]) -> list[str]:
        return stages.request(ids, state, shown) if config.constraints else list(ids)

    if state.small_talk:
        ranked = stages.dataset.popularity
    elif state.described:
        ranked = list(stages.candidates.plots.match(state.description))[:PLOT_FIRST] + list(ranked)
    ranked = constrained(without_twins(ranked, stages.same_title, catalog))  # the request picks among films
    usable = {item for item in ranked if item in catalog} - excluded
    fallback = constrained(without_twins(stages.dataset.popularity, stages.same_title, catalog, ranked)) \
        if len(usable) < k else []  # read only when the fill is needed
    usable |= {item for item in fallback if item in catalog} - excluded
    return finalize_ranking(ranked, fallback, min(k, len(usable)), exclude=excluded, allowed=catalog)

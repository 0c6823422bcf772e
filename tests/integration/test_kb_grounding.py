"""KB grounding on the real data and the packaged retriever (no LLM): requests are honoured, dislikes never return."""

import warnings

import pytest

from llmkb.evaluation.requests import evaluate_requests
from llmkb.pipeline import Recommender, RecommenderConfig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def inspired(mirror):
    """INSPIRED's 1,472 movies: its KB index builds in a fifth of ReDial's time (CI's budget), with Scorsese's films."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Recommender(RecommenderConfig(dataset="inspired", use_llm=False, data_dir=mirror), progress=False)


def test_the_scorsese_opener_gets_scorsese_films_and_says_why(inspired):
    out = inspired.respond([], "Any good crime dramas directed by Martin Scorsese?")
    assert all("directed by Martin Scorsese, as you asked" in item.cues for item in out.items)
    assert "Goodfellas (1990)" in [item.item.display for item in out.items]


def test_a_dislike_never_comes_back(inspired):
    first = inspired.respond([], "I want a scary movie")
    facts = inspired.stages.facts
    later = inspired.respond(first.turns, "actually I hate horror, something with Tom Hanks")
    assert not any(facts.satisfies(item.item.item_id, next(p for p in later.preferences if p.polarity < 0))
                   for item in later.items)
    assert all(item.item.item_id in inspired.stages.catalog for item in later.items)


def test_request_benchmark_full_system_beats_dense_only(mirror, tmp_path):
    config = RecommenderConfig(dataset="inspired", use_llm=False, data_dir=mirror)
    report = evaluate_requests(config, "full,dense-only", per_type=4, out=tmp_path / "report.json", progress=False)
    full, dense = (report["variants"][v]["metrics"]["satisfiable"]["overall"]["precision@5"]
                   for v in ("full", "dense-only"))
    assert full >= 0.9 and dense < 0.5

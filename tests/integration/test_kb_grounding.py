"""KB grounding on the real data and the packaged retriever (no LLM): requests are honoured, dislikes never return."""

import warnings

import pytest

from llmkb.evaluation.requests import evaluate_requests
from llmkb.pipeline import Recommender, RecommenderConfig

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redial(mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Recommender(RecommenderConfig(dataset="redial", use_llm=False, data_dir=mirror), progress=False)


def test_the_scorsese_opener_gets_scorsese_films_and_says_why(redial):
    out = redial.respond([], "Any good crime dramas directed by Martin Scorsese?")
    assert all("directed by Martin Scorsese, as you asked" in item.cues for item in out.items)
    assert "Goodfellas (1990)" in [item.item.display for item in out.items]


def test_a_dislike_never_comes_back(redial):
    first = redial.respond([], "I want a scary movie")
    facts = redial.stages.facts
    later = redial.respond(first.turns, "actually I hate horror, something with Tom Hanks")
    assert not any(facts.satisfies(item.item.item_id, next(p for p in later.preferences if p.polarity < 0))
                   for item in later.items)
    assert all(item.item.item_id in redial.stages.catalog for item in later.items)


def test_request_benchmark_full_system_beats_dense_only(mirror, tmp_path):
    config = RecommenderConfig(dataset="inspired", use_llm=False, data_dir=mirror)
    report = evaluate_requests(config, "full,dense-only", per_type=4, out=tmp_path / "report.json", progress=False)
    full, dense = (report["variants"][v]["metrics"]["satisfiable"]["overall"]["precision@5"]
                   for v in ("full", "dense-only"))
    assert full >= 0.9 and dense < 0.5

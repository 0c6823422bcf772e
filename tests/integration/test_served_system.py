"""The served system on the real data: the first-run build gives the calibrated retriever and the learned ranker, and
chat ranks a dialogue as `llmkb evaluate --system rag-ranker` does (the setup it serves: no LLM scoring)."""

import warnings

import pytest

from llmkb.app.build import Build, build_served, served_config
from llmkb.data.records import SEEKER
from llmkb.evaluation.systems import make_system
from llmkb.pipeline import Recommender
from llmkb.retrieval.artifacts import calibrated_path

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.first_run]  # builds the served system: ~7 min fresh
SAMPLES = 40  # the first ReDial test samples that end with the seeker's turn


@pytest.fixture(scope="module")
def served(mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build = Build()
        config = build_served("redial", mirror, build, progress=False, replies=False)  # the ranking; minutes when fresh
        assert build.status() == "built" and config.resolved().retriever == calibrated_path("redial")
        assert config.ranker is not None and not config.llm_scoring
        return Recommender(served_config("redial", data_dir=mirror, use_llm=False), progress=False)


def test_chat_ranks_a_dialogue_as_the_evaluation_does(served):
    stages = served.stages
    system = make_system("rag-ranker", stages.dataset, stages=stages, ranking=served.ranking, split="test")
    samples = [s for s in stages.dataset.samples("test", "dedup") if s.context[-1].role == SEEKER][:SAMPLES]
    compared = 0
    for sample in samples:
        found = served.rank(sample.context[:-1], sample.context[-1].text)
        if found.turns[-1].items != sample.context[-1].items:
            continue  # chat read other titles from the text than the dataset's annotation: not the same dialogue
        compared += 1
        mentioned = set(stages.mentioned_twins(stages.states([sample.context])[0]))
        evaluated = [item for item in system.rank([sample])[0] if item not in mentioned]  # chat never repeats them
        assert [r.item.item_id for r in found.items] == evaluated[:5], sample.sample_id
    assert compared >= SAMPLES // 2

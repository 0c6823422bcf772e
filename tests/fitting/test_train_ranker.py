"""Training the learned ranker: labelled rows, rounds chosen on validation among the checkpoints, the file it
writes (and its ablation's), and what it refuses."""

import dataclasses
import json

import numpy as np
import pytest

from llmkb.errors import LLMKBError
from llmkb.evaluation.rag import Fused
from llmkb.fitting.tune_fusion import objective
from llmkb.pipeline import RecommenderConfig
from llmkb.pipeline.tuned import trained_ranker_path, with_tuned_ranking
from llmkb.ranking.features import FEATURES
from llmkb.fitting.folds import SampleRows
from llmkb.ranking.learned import LearnedRanker
from llmkb.fitting.train_ranker import RankerConfig, labelled, score_rounds, train_ranker

SMALL = RankerConfig(rounds=6, checkpoints=(2, 4, 6), num_leaves=4, min_data_in_leaf=1)


def proposed_by(source: str, count: int) -> np.ndarray:
    matrix = np.zeros((count, len(FEATURES)), np.float32)
    matrix[:, [n for n, name in enumerate(FEATURES) if name.startswith("rank_in_")]] = np.nan
    matrix[:, FEATURES.index(f"rank_in_{source}")] = np.arange(count)
    return matrix


def test_labelled_keeps_the_samples_with_a_gold_among_their_kept_candidates():
    rows = SampleRows(["hit", "miss", "unlabelled", "graph-only"], [["a", "b"], ["c"], ["a"], ["g", "h"]],
                      np.concatenate([proposed_by("retriever", 2), proposed_by("retriever", 1),
                                      proposed_by("retriever", 1), proposed_by("graph", 2)]))
    golds = {"hit": {"b"}, "miss": {"z"}, "graph-only": {"h"}}
    features, labels, groups = labelled(rows, golds, ())
    assert groups == [2, 2] and labels.tolist() == [0, 1, 0, 1] and features.shape == (4, len(FEATURES))
    features, labels, groups = labelled(rows, golds, ("graph",))  # its gold came from the graph alone
    assert groups == [2] and labels.tolist() == [0, 1]
    with pytest.raises(LLMKBError, match="no training sample has a gold"):
        labelled(rows, {"miss": {"z"}}, ())


def test_train_ranker_chooses_rounds_on_valid_and_writes_the_ranker_with_its_curve(stages):
    ranker, path = train_ranker(stages, "std", SMALL, progress=False)
    assert path == trained_ranker_path("inspired", "std", stages.config.setup_key) and path.is_file()
    meta = json.loads(path.read_text())
    curve = meta["curve"]
    assert sorted(map(int, curve)) == [2, 4, 6] and meta["rounds"] == ranker.rounds in SMALL.checkpoints
    best = max(point["objective"] for point in curve.values())
    assert meta["score"] == curve[str(meta["rounds"])]["objective"] == best
    assert meta["rounds"] == min(int(r) for r, point in curve.items() if point["objective"] == best)  # fewest on ties
    assert meta["without"] == [] and meta["config"]["rounds"] == 6 and meta["tuned_on"] == "inspired-std"
    assert meta["training_samples"] == 2 and meta["valid_samples"] == 1 and meta["setup"] == stages.config.setup
    assert set(meta["importance"]) == set(FEATURES)
    assert ranker.path == path and LearnedRanker.load(path).rounds == ranker.rounds
    valid = stages.dataset.samples("valid", "std")
    states = stages.states([s.context for s in valid])
    for state, found in zip(states, stages.candidates(states)):
        ranked = [item for item, _ in ranker.rank(found, state, stages.priors, stages.facts)]
        assert sorted(ranked) == sorted(found.ids) and len(ranked) > 0
    # the score it was chosen by is what the rag-ranker system gets on valid
    served = Fused(stages, LearnedRanker.load(path), "valid").rank(valid)
    assert np.mean([objective(r, s.gold) for r, s in zip(served, valid)]) == pytest.approx(meta["score"], abs=1e-4)


def test_an_ablated_ranker_has_its_own_file_and_drops_the_left_out_sources_candidates(stages):
    ranker, path = train_ranker(stages, "std", dataclasses.replace(SMALL, without=("graph",)),
                                progress=False)
    assert path.name.endswith("-without-graph.json") and path == trained_ranker_path(
        "inspired", "std", stages.config.setup_key, ("graph",))
    assert json.loads(path.read_text())["without"] == ["graph"] and ranker.without == ("graph",)
    assert not trained_ranker_path("inspired", "std", stages.config.setup_key).exists()
    state = stages.states([stages.dataset.samples("valid", "std")[0].context])[0]
    found = stages.candidates([state])[0]
    last = found.ids[-1]  # made a candidate the graph alone proposed
    sources = {source: [item for item in ids if item != last] for source, ids in found.sources.items()}
    found = dataclasses.replace(found, sources={**sources, "graph": [*sources.get("graph", []), last]})
    ranked = [item for item, _ in LearnedRanker.load(path).rank(found, state, stages.priors, stages.facts)]
    assert sorted(ranked) == sorted(set(found.ids) - {last})


def test_train_ranker_refuses_llm_scoring_and_a_dataset_without_validation(make_stages):
    with pytest.raises(LLMKBError, match="llm_scoring=False"):
        train_ranker(make_stages(dataset="inspired", reply_runtime="float32"), "std", SMALL, progress=False)
    with pytest.raises(LLMKBError, match="no std validation samples"):  # the tiny ReDial has no valid dialogue
        train_ranker(make_stages(dataset="redial", use_llm=False), "std", SMALL, progress=False)


def test_chat_serves_the_trained_ranker_of_its_setup_when_it_ranks_without_the_llm(make_recommender, tiny_root,
                                                                                   tiny_models):
    stages = make_recommender(dataset="inspired", use_llm=False).stages
    _, std = train_ranker(stages, "std", SMALL, progress=False)
    config = RecommenderConfig(dataset="inspired", use_llm=False, data_dir=tiny_root,
                               retriever=tiny_models["retriever"])
    assert with_tuned_ranking(config).ranker == std
    _, dedup = train_ranker(stages, "dedup", SMALL, progress=False)
    assert with_tuned_ranking(config).ranker == dedup  # chat recommends new movies: dedup's first
    scoring = dataclasses.replace(config, use_llm=True, llm=tiny_models["llm"])
    assert with_tuned_ranking(scoring).ranker is None  # a ranker trained without LLM scores is not for this setup
    recommender = make_recommender(dataset="inspired", use_llm=False, ranker=dedup)
    assert isinstance(recommender.ranking, LearnedRanker) and recommender.ranking.path == dedup
    found = recommender.respond([], "I loved Alien (1979), something scary?", reply=False)
    assert found.detected == ["Alien (1979)"] and len(found.items) == 5
    assert "Alien" not in [r.item.title for r in found.items]  # a mentioned movie is not recommended again
    with pytest.raises(LLMKBError, match="llm_scoring=False"):
        make_recommender(dataset="inspired", ranker=dedup, reply_runtime="float32")


class ByRetriever:
    """A stand-in booster: scores by the retriever cosine, reversed from round 4 on."""

    def predict(self, matrix, num_iteration):
        return matrix[:, FEATURES.index("retriever")] * (1 if num_iteration < 4 else -1)


def test_score_rounds_scores_each_checkpoint_on_the_lists_after_the_request_constraints(stages, make_stages):
    valid = stages.dataset.samples("valid", "std")  # "Crime?", gold Fargo
    state = stages.states([valid[0].context])[0]
    assert [p.value for p in state.request] == ["Crime film"]
    fargo, up = (next(i for i in stages.catalog if name in i) for name in ("Fargo", "Up_"))
    matrix = np.zeros((2, len(FEATURES)), np.float32)
    matrix[:, FEATURES.index("retriever")] = [0.9, 0.1]  # Up first by the scores
    rows = SampleRows([valid[0].sample_id], [[up, fargo]], matrix)
    curve = score_rounds(ByRetriever(), rows, valid, stages, (), (2, 4))
    assert curve[2]["objective"] == curve[4]["objective"] == 3.0  # the request puts the crime film first either way
    plain = make_stages(dataset="inspired", use_llm=False, constraints=False)
    assert score_rounds(ByRetriever(), rows, valid, plain, (), (2, 4)) == {
        2: {"objective": 2.0, "mentioned_in_top10": 0.0}, 4: {"objective": 3.0, "mentioned_in_top10": 0.0}}


def test_the_command_writes_a_ranker_of_other_settings_beside_the_served_one_and_evaluate_runs_it(tiny_cli,
                                                                                                 tmp_path):
    assert tiny_cli("train-ranker", "--protocol", "std", "--num-leaves", "4", "--min-data-in-leaf", "1",
                    dataset="inspired") == 0
    written = sorted((tmp_path / "artifacts" / "ranker" / "inspired").glob("std-*.json"))
    assert len(written) == 1 and written[0].name.endswith("-num_leaves-4-min_data_in_leaf-1.json")
    config = json.loads(written[0].read_text())["config"]
    assert (config["num_leaves"], config["min_data_in_leaf"], config["learning_rate"]) == (4, 1, 0.05)
    # `evaluate --ranker` runs that one, not the setup's (none here), and names its files after it
    assert tiny_cli("evaluate", "--system", "rag-ranker", "--split", "valid", "--ranker", str(written[0]),
                    dataset="inspired") == 0
    report = tmp_path / "artifacts" / "runs" / f"inspired-std-valid-rag-ranker-ranker-{written[0].stem}.report.json"
    assert json.loads(report.read_text())["models"]["ranker_file"] == str(written[0])
    assert sorted((tmp_path / "artifacts" / "ranker" / "inspired").glob("std-*.json")) == written
    # a given ranker and an ablation to train: an error, not the ranker silently left out
    assert tiny_cli("evaluate", "--system", "rag-ranker", "--split", "valid", "--ranker", str(written[0]),
                    "--without", "graph", dataset="inspired") == 2

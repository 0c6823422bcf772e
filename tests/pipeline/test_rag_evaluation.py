import json

from llmkb.evaluation import Run, evaluate
from llmkb.evaluation.rag import SampleCache, make_rag_system, tuned_weights


def test_cache_resumes_and_ignores_a_torn_line(tmp_path, make_recommender):
    rec = make_recommender(use_llm=False)
    samples = rec.dataset.samples("test")
    calls = []

    def compute(chunk):
        calls.extend(s.sample_id for s in chunk)
        return [{"n": len(s.context)} for s in chunk]

    path = tmp_path / "cache.jsonl"
    first = SampleCache(path).get(samples[:2], compute)
    with open(path, "a") as out:
        out.write('{"sample_id": "torn", "n"')  # an interrupted write
    again = SampleCache(path).get(samples, compute)
    assert again[:2] == first and calls == [s.sample_id for s in samples]  # the first two were not recomputed


def test_rag_tunes_on_valid_and_writes_protocol_predictions(tmp_path, make_recommender):
    rec = make_recommender(dataset="inspired", llm_candidates=4)  # the tiny ReDial has no validation dialogue
    weights = tuned_weights(rec, rec.dataset, "std", progress=False)
    saved = json.loads(rec.weights_path("std").read_text())
    assert saved["weights"]["retriever"] == 1.0 and "valid" in saved["tuned_on"]
    system = make_rag_system("rag", rec, rec.dataset, "std", "test", progress=False)
    assert system.weights == weights
    result = evaluate(rec.dataset, Run("inspired", "std", "test", "rag"), system,
                      tmp_path / "p.jsonl", tmp_path / "r.json", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(rows) == result["metrics"]["samples"] > 0
    assert all(len(set(r["ranked"])) == len(r["ranked"]) == len(rec.catalog) for r in rows)


def test_generated_systems_map_only_catalogue_titles(tmp_path, make_recommender):
    rec = make_recommender()
    for name in ("llm-zeroshot", "rag-no-postprocess"):
        system = make_rag_system(name, rec, rec.dataset, "std", "test")
        for ranked in system.rank(rec.dataset.samples("test")):
            assert set(ranked) <= set(rec.catalog)


def test_a_zero_llm_weight_ranks_test_samples_without_llm_scores(make_recommender, monkeypatch):
    from llmkb.evaluation.rag import Fused
    from llmkb.pipeline.fusion import FusionWeights

    rec = make_recommender(dataset="inspired", llm_candidates=4)
    samples = rec.dataset.samples("test")
    with_llm = Fused(rec, FusionWeights(llm=0.5, context=2.0), "test").rank(samples)
    monkeypatch.setattr("llmkb.pipeline.recommender.score_candidates",
                        lambda *args: (_ for _ in ()).throw(AssertionError("the LLM scored a candidate")))
    without = Fused(rec, FusionWeights(llm=0.0, context=2.0), "test").rank(samples)
    assert len(without) == len(with_llm) == len(samples)
    assert all(set(a) == set(b) for a, b in zip(with_llm, without))  # same candidates, ranked by other signals

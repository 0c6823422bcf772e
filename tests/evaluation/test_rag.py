import json

from llmkb.evaluation import Run, evaluate
from llmkb.evaluation.rag import Fused
from llmkb.evaluation.systems import make_system
from llmkb.fitting.cache import SampleCache
from llmkb.fitting.tune_fusion import fusion_weights
from llmkb.pipeline.tuned import tuned_weights_path
from llmkb.ranking.fusion import FusionWeights


def test_cache_resumes_and_ignores_a_torn_line(tmp_path, make_stages):
    samples = make_stages(use_llm=False).dataset.samples("test")
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


def test_rag_tunes_on_valid_writes_provenance_and_protocol_predictions(tmp_path, make_stages):
    s = make_stages(dataset="inspired", llm_candidates=4)  # the tiny ReDial has no validation dialogue
    weights, path = fusion_weights(s, "std", progress=False)
    assert path == tuned_weights_path("inspired", "std", s.config.setup_key)
    saved = json.loads(path.read_text())
    assert saved["weights"]["retriever"] == 1.0 and "valid" in saved["tuned_on"]
    assert saved["setup"] == s.config.setup and saved["data_files"] and saved["grid"]["llm"][0] == 0.0
    assert fusion_weights(s, "std", progress=False) == (weights, path)  # tuned once, then reused
    system = make_system("rag", s.dataset, stages=s, ranking=weights, split="test")
    result = evaluate(s.dataset, Run("inspired", "std", "test", "rag"), system,
                      tmp_path / "p.jsonl", tmp_path / "r.json", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(rows) == result["metrics"]["samples"] > 0
    assert all(len(set(r["ranked"])) == len(r["ranked"]) == len(s.catalog) for r in rows)


def test_named_weights_are_used_as_they_are(tmp_path, make_stages):
    FusionWeights(llm=0.0, popularity=2.0).save(tmp_path / "w.json")
    s = make_stages(dataset="inspired", use_llm=False, weights=tmp_path / "w.json")
    assert fusion_weights(s, "std") == (FusionWeights(llm=0.0, popularity=2.0), tmp_path / "w.json")


def test_generated_systems_map_only_catalogue_titles(make_stages):
    s = make_stages()
    for name in ("llm-zeroshot", "rag-no-postprocess"):
        system = make_system(name, s.dataset, stages=s, split="test")
        for ranked in system.rank(s.dataset.samples("test")):
            assert set(ranked) <= set(s.catalog)


def test_a_zero_llm_weight_ranks_test_samples_without_llm_scores(make_stages, monkeypatch):
    s = make_stages(dataset="inspired", llm_candidates=4)
    samples = s.dataset.samples("test")
    with_llm = Fused(s, FusionWeights(llm=0.5, context=2.0), "test").rank(samples)
    monkeypatch.setattr("llmkb.pipeline.stages.score_candidates",
                        lambda *args: (_ for _ in ()).throw(AssertionError("the LLM scored a candidate")))
    without = Fused(s, FusionWeights(llm=0.0, context=2.0), "test").rank(samples)
    assert len(without) == len(with_llm) == len(samples)
    assert all(set(a) == set(b) for a, b in zip(with_llm, without))  # same candidates, ranked by other signals

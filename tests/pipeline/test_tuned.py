from llmkb.pipeline.config import RecommenderConfig
from llmkb.pipeline.tuned import with_tuned_ranking
from llmkb.ranking.fusion import FusionWeights


def test_chat_uses_the_weights_its_config_names_or_those_tuned_for_its_setup(tmp_path, monkeypatch, tiny_models):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path))
    encoder = tiny_models["retriever"]
    config = RecommenderConfig(dataset="inspired", retriever=encoder, use_llm=False)
    assert with_tuned_ranking(config).weights is None  # nothing tuned: the built-in weights
    named = RecommenderConfig(dataset="inspired", retriever=encoder, use_llm=False, weights=tmp_path / "mine.json")
    assert with_tuned_ranking(named) == named
    std = tmp_path / "fusion" / "inspired" / f"std-{config.setup_key}.json"
    FusionWeights(llm=0.0).save(std)
    assert with_tuned_ranking(config).weights == std
    dedup = std.with_name(f"dedup-{config.setup_key}.json")
    FusionWeights(llm=0.0).save(dedup)
    assert with_tuned_ranking(config).weights == dedup  # chat recommends new movies: dedup's first

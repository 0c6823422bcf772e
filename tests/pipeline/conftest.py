import warnings

import pytest
from tiny_models import write_tiny_llm, write_tiny_sentence_transformer

from llmkb.pipeline import Recommender, RecommenderConfig


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, tiny_root):
    folder = tmp_path_factory.mktemp("tiny-models")
    return write_tiny_sentence_transformer(folder / "encoder", tiny_root), write_tiny_llm(folder / "llm")


@pytest.fixture()
def make_recommender(tiny_root, tiny_models, tmp_path, monkeypatch):
    """A Recommender over the dozen-movie world with tiny random models; artifacts go to a temp dir."""
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))
    encoder, llm = tiny_models

    def make(**options) -> Recommender:
        config = RecommenderConfig(**{"dataset": "redial", "retriever": encoder, "llm": llm, "data_dir": tiny_root,
                                      "reply_tokens": 12,
                                      "prompt_tokens": 4096, **options})  # byte tokens: a long budget
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
            return Recommender(config, progress=False)

    return make

"""The tiny world served for real: a tiny random BERT retriever and a tiny random Llama, saved as model folders."""

import warnings
from functools import partial

import pytest

from llmkb.app.backbone import Point, Recipe
from llmkb.app.session import ChatService, load_engine

# the tiny world: 3 training pairs, few valid samples; one crossbar per layer at any bits, so no mixed budget fits
TINY_RECIPE = Recipe(retriever=Point("gptq-mse", 5), llm=Point("gptq-mse", 7), steps=2, batch_size=2, split="train")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """A private artifacts folder (KB, index and backbone caches) for one test module."""
    path = tmp_path_factory.mktemp("artifacts")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMKB_ARTIFACTS", str(path))
        yield path


@pytest.fixture(scope="module")
def service(tiny_root, tiny_models, artifacts):
    """One real ChatService over the tiny world (engines load once per module)."""
    load = partial(load_engine, data_dir=tiny_root, retriever=tiny_models["retriever"], llm=tiny_models["llm"],
                   backbones_root=artifacts / "backbones", progress=False, recipe=TINY_RECIPE,
                   reply_tokens=12, prompt_tokens=4096,  # byte-level tokens: long prompt budgets
                   reply_prompt_tokens=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
        yield ChatService(load)

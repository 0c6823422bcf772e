"""Docstring examples of ``llmkb`` and ``rram`` run as tests (``--doctest-modules``) in a tiny world: the dozen-movie
data of ``tests/tiny_data.py`` as ``data_dir``, a tiny random Llama as ``model``/``tokenizer`` (saved at
``llm_path``), a tiny sentence-transformer at ``encoder_path``, and a private artifacts folder."""

import sys
import warnings
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> dict:
    from tiny_data import write_tiny_data
    from tiny_models import tiny_llama, tiny_tokenizer, write_tiny_llm, write_tiny_sentence_transformer

    root = tmp_path_factory.mktemp("doctest-world")
    data_dir = write_tiny_data(root / "data")
    tokenizer = tiny_tokenizer()
    return {"data_dir": data_dir, "tokenizer": tokenizer, "model": tiny_llama(len(tokenizer)).eval(),
            "encoder_path": write_tiny_sentence_transformer(root / "encoder", data_dir),
            "llm_path": write_tiny_llm(root / "llm")}


@pytest.fixture(autouse=True)
def _doctest_world(request, tmp_path, monkeypatch):
    """For docstring examples only: the tiny world in their namespace, artifacts in a temp folder."""
    if isinstance(request.node, DoctestItem):
        request.node.dtest.globs.update(request.getfixturevalue("tiny_world"))
        monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
            yield
    else:
        yield

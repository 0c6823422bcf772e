import os
import warnings
from pathlib import Path

import pytest
from tiny_data import write_tiny_data  # tests/ is on sys.path (pytest's default import mode)
from tiny_models import write_tiny_llm, write_tiny_sentence_transformer

from llmkb.pipeline import Recommender, RecommenderConfig

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("LLMKB_DATA_SOURCE") or REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True)
def private_artifacts(request, tmp_path_factory, monkeypatch):
    """Unit tests build into a temporary folder, never into the user's ``artifacts/`` (integration tests reuse it)."""
    if request.node.get_closest_marker("integration") is None:
        monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path_factory.getbasetemp() / "artifacts"))


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def tiny_kb(tiny_root, tmp_path_factory):
    """(the dozen-movie ReDial dataset, its KB documents), built once into a temporary folder."""
    from llmkb.data import load_dataset
    from llmkb.kb import build_kb, load_kb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
        dataset = load_dataset("redial", tiny_root)
        return dataset, load_kb(build_kb(dataset, tmp_path_factory.mktemp("kb"))[0])


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real public data (../shared/data or $LLMKB_DATA_SOURCE); skips when it is absent."""
    if not (MIRROR / "redial" / "raw" / "test_data.jsonl").is_file():
        pytest.skip(f"real data mirror not found at {MIRROR}; set LLMKB_DATA_SOURCE to a folder laid out like ../shared/data")
    return MIRROR


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, tiny_root) -> dict[str, Path]:
    """{"retriever": sentence-transformers dir, "llm": HF causal-LM dir}, both random and tiny."""
    folder = tmp_path_factory.mktemp("tiny-models")
    return {"retriever": write_tiny_sentence_transformer(folder / "encoder", tiny_root),
            "llm": write_tiny_llm(folder / "llm")}


@pytest.fixture()
def make_recommender(tiny_root, tiny_models, tmp_path, monkeypatch):
    """A Recommender over the dozen-movie world with tiny random models; artifacts go to a temp dir."""
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))

    def make(**options) -> Recommender:
        config = RecommenderConfig(**{"dataset": "redial", "retriever": tiny_models["retriever"],
                                      "llm": tiny_models["llm"], "data_dir": tiny_root, "reply_tokens": 12,
                                      "prompt_tokens": 4096, "reply_prompt_tokens": 4096, **options})  # byte tokens: a long budget
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
            return Recommender(config, progress=False)

    return make


@pytest.fixture()
def make_stages(make_recommender):
    """The stages of a Recommender over the dozen-movie world (what evaluation runs)."""
    return lambda **options: make_recommender(**options).stages


@pytest.fixture()
def tiny_cli(tiny_root, tiny_models, tmp_path, monkeypatch):
    """``tiny_cli("evaluate-requests", "--per-type", "1")``: an ``llmkb`` command on the dozen-movie ReDial world
    (``dataset="inspired"``: the INSPIRED one, which has validation dialogues) with the tiny retriever and no LLM;
    artifacts go to a temp dir. Returns the exit code."""
    from llmkb.cli import main

    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))

    def run(command: str, *options: str, dataset: str = "redial") -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
            return main(["--data-dir", str(tiny_root), command, "--dataset", dataset, "--no-llm",
                         "--retriever", str(tiny_models["retriever"]), *options])

    return run

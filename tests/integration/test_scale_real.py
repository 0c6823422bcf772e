"""On INSPIRED's test split, a 2-worker local Ray cluster gives exactly the predictions of one process (issue 20):
copy-context, bm25 and rag-no-llm. The KB and the index are the ones the other integration tests build (shared, as
they are keyed by their inputs); the per-sample score cache is private and emptied before each run, so both compute
every candidate."""

import shutil

import pytest

from llmkb.cli import main
from llmkb.paths import artifacts_dir
from llmkb.ranking.fusion import FusionWeights

pytest.importorskip("ray", reason="the optional extra .[scale] (Ray) is not installed")
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """A private artifacts folder whose KB and index folders are the shared ones (INSPIRED's index takes ~40 s)."""
    folder = tmp_path_factory.mktemp("scale-artifacts")
    for name in ("kb", "index"):
        (artifacts_dir() / name).mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to((artifacts_dir() / name).resolve(), target_is_directory=True)
    return folder


@pytest.mark.parametrize("system", ["copy-context", "bm25", "rag-no-llm"])
def test_two_workers_give_one_process_predictions(mirror, artifacts, tmp_path, monkeypatch, system):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(artifacts))
    weights = tmp_path / "weights.json"  # rag-no-llm's fusion, given rather than tuned (the test is the sharding)
    FusionWeights(llm=0.0, context=16.0, co_mention=2.0, kb_match=2.0).save(weights)
    predictions = {}
    for workers in (None, 2):
        shutil.rmtree(artifacts / "rag-cache", ignore_errors=True)
        out = tmp_path / f"{workers or 'one'}.predictions.jsonl"
        argv = ["--data-dir", str(mirror), "evaluate", "--dataset", "inspired", "--system", system,
                "--predictions", str(out), "--weights", str(weights)] + (["--workers", str(workers)] if workers else [])
        assert main(argv) == 0
        predictions[workers] = out.read_text()
        assert not out.with_name(out.name + ".partial").exists()  # the shard cache goes once the run is written
    assert predictions[None].count("\n") == 227
    assert predictions[2] == predictions[None]

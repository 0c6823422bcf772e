import json
import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.evaluation import Run, evaluate, make_system


@pytest.fixture()
def redial(tiny_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = load_dataset("redial", tiny_root)
        ds.metadata
        return ds


def test_popularity_uses_training_dialogues_only(redial):
    ranking = redial.popularity
    assert ranking[:3] == ["1008", "1001", "1003"]  # 1008 is mentioned in 2 training dialogues; ties by id
    assert len(ranking) == len(redial.catalog)


def _run(redial, tmp_path, system, **options):
    report = evaluate(redial, Run("redial", "std", "test", system, **options), make_system(system, redial),
                      tmp_path / "p.jsonl", tmp_path / "r.json", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    return report, rows


def test_predictions_file_and_report_follow_the_protocol(redial, tmp_path):
    report, rows = _run(redial, tmp_path, "copy-context")
    assert [r["sample_id"] for r in rows] == ["900:1", "900:3", "901:2"]
    for row in rows:  # a dozen-movie catalogue can fill only 12 of the 50 slots
        assert len(row["ranked"]) == len(set(row["ranked"])) == 12 and set(row["ranked"]) <= set(redial.catalog)
    assert rows[1]["ranked"][:2] == ["1002", "1001"]  # context movies, most recent first
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["protocol"] == "redial-std" and saved["metrics"] == report["metrics"]
    assert "redial/raw/test_data.jsonl" in saved["data_files"]


def test_exclude_mentioned_is_a_system_option(redial, tmp_path):
    _, rows = _run(redial, tmp_path, "copy-context", exclude_mentioned=True)
    assert "1001" not in rows[0]["ranked"] and "1002" not in rows[1]["ranked"]


def test_bm25_ranks_documents(redial, tmp_path):
    report, rows = _run(redial, tmp_path, "bm25")
    assert report["metrics"]["samples"] == 3 and all(len(r["ranked"]) == 12 for r in rows)


def test_every_registered_system_is_built_by_one_factory_and_says_how_it_batches(tiny_root):
    from llmkb.data import load_dataset
    from llmkb.errors import LLMKBError
    from llmkb.evaluation.systems import SYSTEMS

    dataset = load_dataset("inspired", tiny_root)
    for name in ("popularity", "copy-context", "bm25"):
        system = make_system(name, dataset)
        assert system.batch_invariant and system.batch_size > 0 and len(system.rank(dataset.samples("test"))) > 0
    with pytest.raises(LLMKBError, match="rag-ranker needs the recommender's stages and its ranking"):
        make_system("rag-ranker", dataset)
    with pytest.raises(LLMKBError, match="unknown system 'nope'"):
        make_system("nope", dataset)
    assert {name for name, entry in SYSTEMS.items() if not entry.conversational} == {"llm-zeroshot",
                                                                                     "rag-no-postprocess"}

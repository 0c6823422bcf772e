import json
import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.kb import build_kb, load_kb


@pytest.fixture()
def redial(tiny_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the id2info repair warning is tested in tests/data
        ds = load_dataset("redial", tiny_root)
        ds.metadata
    return ds


def test_every_item_gets_a_document_even_without_knowledge(redial, tmp_path):
    out, rebuilt = build_kb(redial, tmp_path / "kb")
    docs = {d.item_id: d for d in load_kb(out)}
    assert rebuilt and set(docs) == set(redial.catalog)
    assert docs["1012"].text == "Scream (1996)." and docs["1012"].sources == []


def test_document_merges_kg_metadata_two_hop_and_co_mentions(redial, tmp_path):
    docs = {d.item_id: d for d in load_kb(build_kb(redial, tmp_path / "kb")[0])}
    toy = docs["1001"]
    assert toy.facts["director"] == ["John Lasseter"]
    assert toy.facts["starring"] == ["Tom Hanks"]  # KG and metadata merged without duplicates
    assert toy.facts["genre"] == ["Animation", "comedy"]
    assert toy.related == {"Also directed by John Lasseter": ["Toy Story 2 (1999)"],
                           "Also starring Tom Hanks": ["Toy Story 2 (1999)"]}
    assert toy.plot == "Plot of Toy Story." and "Plot: Plot of Toy Story." in toy.text
    assert set(toy.sources) == {"kg", "metadata"} | ({"dialogues"} if toy.co_mentions else set())


def test_co_mentions_come_from_training_dialogues_only(redial, tmp_path):
    out, _ = build_kb(redial, tmp_path / "kb")
    docs = {d.item_id: d for d in load_kb(out)}
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["co_mention_dialogues"]) == {d.dialogue_id for d in redial.train}
    # 1003 (The Matrix) and 1004 (Heat) are mentioned together only in test dialogue 901
    assert "1004" not in docs["1003"].co_mentions and "1003" in docs["1008"].co_mentions
    for dialogue in redial.test:
        for turn in dialogue.turns:
            assert all(turn.text not in doc.text for doc in docs.values())


def test_build_is_cached_by_input_hash_and_rebuilt_when_an_input_changes(tiny_root, tmp_path):
    import shutil

    root = shutil.copytree(tiny_root, tmp_path / "data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, rebuilt = build_kb(load_dataset("redial", root), tmp_path / "kb")
        assert rebuilt
        assert build_kb(load_dataset("redial", root), tmp_path / "kb") == (out, False)
        csv = root / "redial" / "raw" / "movies_with_mentions.csv"
        csv.write_text(csv.read_text() + '1013,"Brand New (2020)",1\n')
        out, rebuilt = build_kb(load_dataset("redial", root), tmp_path / "kb")
    assert rebuilt and len(load_kb(out)) == 13
    assert json.loads((out / "manifest.json").read_text())["counts"]["documents"] == 13


def test_inspired_kb(tiny_root, tmp_path):
    ds = load_dataset("inspired", tiny_root)
    docs = load_kb(build_kb(ds, tmp_path / "kb")[0])
    assert len(docs) == len(ds.catalog) == 11


def test_metadata_copied_from_another_linked_film_is_left_out():
    from types import SimpleNamespace

    from llmkb.data.records import CatalogItem
    from llmkb.kb.documents import misattributed_metadata

    catalog = {i: CatalogItem(i, t, y) for i, t, y in [("1", "Goodfellas", 1990), ("2", "It", 1990),
                                                        ("3", "The Exorcist", 1973), ("4", "Exorcist", None)]}
    plots = {"1": "The story of Henry Hill.", "2": "The story of Henry Hill.", "3": "A girl is possessed.",
             "4": "A girl is possessed."}
    dataset = SimpleNamespace(catalog=catalog, metadata={i: {"plot": p} for i, p in plots.items()})
    assert misattributed_metadata(dataset, linked={"1", "3"}) == {"2"}  # "Exorcist" is the same film

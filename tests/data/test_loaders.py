import json

import pytest

from llmkb.data import RECOMMENDER, SEEKER, build_samples, count_pairs, load_dataset
from llmkb.data.io import DataWarning
from llmkb.data.kg import relation_phrase, uri_name, uri_year
from llmkb.data.redial import load_dialogues, split_title_year


@pytest.fixture(scope="module")
def redial(tiny_root):
    with pytest.warns(DataWarning):  # the id2info defect is repaired when metadata is first read
        ds = load_dataset("redial", tiny_root)
        ds.metadata
    return ds


def test_catalogue_titles_and_years(redial):
    assert len(redial.catalog) == 12
    assert (redial.catalog["1001"].title, redial.catalog["1001"].year) == ("Toy Story", 1995)
    assert split_title_year("American Pie ") == ("American Pie", None)


def test_turns_are_merged_and_titles_substituted(redial):
    dialogue = next(d for d in redial.test if d.dialogue_id == "900")
    first = dialogue.turns[0]
    assert first.role == SEEKER and first.text == "Hi! I loved Toy Story (1995) anything similar?"
    assert first.items == ("1001",)
    assert dialogue.turns[1].role == RECOMMENDER and dialogue.turns[1].items == ("1002", "1001")


def test_train_files_are_merged_and_deduplicated_by_conversation(redial):
    ids = sorted(d.dialogue_id for d in redial.train + redial.valid)
    assert ids == ["100", "101", "102", "103", "104"]
    assert not {d.dialogue_id for d in redial.test} & set(ids)
    first_101 = next(d for d in redial.train + redial.valid if d.dialogue_id == "101")
    assert "kgsf" in first_101.source  # the first file wins


def test_non_dict_movie_mentions_is_treated_as_empty(tmp_path, redial):
    path = tmp_path / "t.jsonl"
    record = {"movieMentions": [], "respondentQuestions": [], "messages": [
        {"text": "see @1001", "senderWorkerId": 2}], "conversationId": "7", "respondentWorkerId": 2}
    path.write_text(json.dumps(record) + "\n")
    (dialogue,) = load_dialogues([path], redial.catalog)  # an empty list is quietly empty, like the real data
    assert dialogue.turns[0].items == ()
    record["movieMentions"] = ["1001"]
    path.write_text(json.dumps(record) + "\n")
    with pytest.warns(DataWarning, match=r"t\.jsonl:1: 'movieMentions' is a list, not a dict"):
        load_dialogues([path], redial.catalog)


def test_std_and_dedup_samples(redial):
    std = build_samples(redial.test, "std")
    assert [s.sample_id for s in std] == ["900:1", "900:3", "901:2"]  # 901:0 has no earlier turn
    assert std[0].gold == ("1002", "1001") and count_pairs(std) == 4
    assert std[0].context == redial.test[0].turns[:1]
    dedup = build_samples(redial.test, "dedup")
    assert [(s.sample_id, s.gold) for s in dedup] == [("900:1", ("1002",)), ("900:3", ("1005",)), ("901:2", ("1004",))]
    assert std[1].mentioned == ("1002", "1001")  # most recent first, no repeats


def test_unknown_protocol_and_split_are_clear_errors(redial):
    with pytest.raises(ValueError, match="unknown protocol 'nope'"):
        redial.samples("test", "nope")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        redial.dialogues("dev")


def test_links_and_metadata(redial):
    assert "1012" not in redial.item_entities and len(redial.item_entities) == 11
    assert redial.metadata["1001"]["genre"] == ["comedy"]


def test_inspired_catalogue_titles_come_from_training_files_only(tiny_root):
    ds = load_dataset("inspired", tiny_root)
    toy = "<http://dbpedia.org/resource/Toy_Story>"
    matrix = "<http://dbpedia.org/resource/The_Matrix>"
    assert (ds.catalog[toy].title, ds.catalog[toy].year) == ("Toy Story", 1995)  # annotated in train
    assert (ds.catalog[matrix].title, ds.catalog[matrix].year) == ("The Matrix", None)  # only in test: URI name
    std = ds.samples("test", "std")
    assert [s.sample_id for s in std] == ["0:1", "0:3"]
    assert std[1].gold == (matrix, "<http://dbpedia.org/resource/Jaws_(film)>")  # non-catalogue link dropped
    assert [s.gold for s in ds.samples("test", "dedup")] == [(matrix,), ("<http://dbpedia.org/resource/Jaws_(film)>",)]


def test_uri_and_relation_names():
    assert uri_name("<http://dbpedia.org/resource/Joker_(2019_film)>") == "Joker"
    assert uri_year("<http://dbpedia.org/resource/Joker_(2019_film)>") == 2019
    assert uri_year("<http://dbpedia.org/resource/Alien_(film)>") is None
    assert uri_name("<http://dbpedia.org/resource/Jorge_Bustos__PersonFunction__1>") == "Jorge Bustos"
    assert uri_name("<http://dbpedia.org/resource/Am%C3%A9lie>") == "Amélie"
    assert relation_phrase("<http://dbpedia.org/ontology/musicComposer>") == "music composer"

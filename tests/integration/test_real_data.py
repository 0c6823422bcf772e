"""Protocol counts, KB coverage and leakage on the real public data (../shared/data)."""

import re
import warnings

import pytest

from llmkb.data import count_pairs, load_dataset
from llmkb.kb import build_kb, load_kb

pytestmark = pytest.mark.integration

EXPECTED = {  # PROTOCOLS.md
    ("redial", "std"): (3617, 4897), ("redial", "dedup"): (3372, 4426),
    ("inspired", "std"): (227, 252), ("inspired", "dedup"): (191, 212),
}


@pytest.fixture(scope="module")
def datasets(mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: load_dataset(name, mirror) for name in ("redial", "inspired")}


@pytest.mark.parametrize("dataset,protocol", list(EXPECTED))
def test_protocol_counts(datasets, dataset, protocol):
    samples = datasets[dataset].samples("test", protocol)
    assert (len(samples), count_pairs(samples)) == EXPECTED[dataset, protocol]


def test_redial_train_split_is_the_available_subset_and_never_test(datasets):
    ds = datasets["redial"]
    train_ids = {d.dialogue_id for d in ds.train + ds.valid}
    assert len(train_ids) == 2270 and len(ds.valid) == 227
    assert not train_ids & {d.dialogue_id for d in ds.test}


def test_redial_loader_warns_on_the_real_id2info_defect(mirror):
    with pytest.warns(UserWarning, match=r"id2info\.json:1: repaired a known defect"):
        assert len(load_dataset("redial", mirror).metadata) == 6583


@pytest.fixture(scope="module")
def kbs(datasets, tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = tmp_path_factory.mktemp("kb")
        return {name: load_kb(build_kb(ds, out / name)[0]) for name, ds in datasets.items()}


@pytest.mark.parametrize("dataset,documents,min_kg,min_meta", [("redial", 6924, 0.70, 0.90), ("inspired", 1472, 0.90, 0.45)])
def test_kb_covers_the_whole_catalogue(kbs, dataset, documents, min_kg, min_meta):
    docs = kbs[dataset]
    assert len(docs) == documents and len({d.item_id for d in docs}) == documents
    assert all(d.text.startswith(d.title) for d in docs)
    assert sum("kg" in d.sources for d in docs) / documents >= min_kg
    assert sum("metadata" in d.sources for d in docs) / documents >= min_meta


def _shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.parametrize("dataset", ["redial", "inspired"])
def test_no_test_dialogue_leaks_into_the_kb(datasets, kbs, dataset):
    ds, docs = datasets[dataset], kbs[dataset]
    kb_shingles = set().union(*(_shingles(d.text) for d in docs))
    leaked = [t.text for d in ds.test for t in d.turns
              if (s := _shingles(t.text)) and s <= kb_shingles]  # every 8-word window of the utterance is in the KB
    assert leaked == []
    # co-mention facts: every pair in the KB co-occurs in some training dialogue
    train_pairs = {(a, b) for d in ds.train for t1 in d.turns for a in t1.items for t2 in d.turns for b in t2.items}
    for doc in docs:
        for other in doc.co_mentions:
            assert (doc.item_id, other) in train_pairs

"""Out-of-fold training rows: folds by dialogue, stacked rows that survive a save, and the tiny world's training
samples featured by what the other folds alone give, computed once."""

import numpy as np
import pytest

from llmkb.fitting import folds as folds_module
from llmkb.ranking.features import FEATURES
from llmkb.fitting.folds import FOLDS, FoldRetrievers, MappedRetriever, SampleRows, document_vectors, fold_of, \
    training_rows
from llmkb.kb.documents import build_documents


def test_fold_of_is_stable_and_spreads_the_dialogues():
    counts = np.bincount([fold_of(str(n)) for n in range(1000)], minlength=FOLDS)
    assert len(counts) == FOLDS and counts.min() > 150  # about 200 each
    assert [fold_of("20001") for _ in range(3)] == [fold_of("20001")] * 3
    assert {fold_of(str(n), folds=3) for n in range(30)} == {0, 1, 2}


def test_sample_rows_round_trip_through_a_file_with_an_empty_candidate_list(tmp_path):
    features = np.arange(3 * len(FEATURES), dtype=np.float32).reshape(3, len(FEATURES))
    features[1, 2] = np.nan
    rows = SampleRows(["s1", "s2", "s3"], [["a", "b"], [], ["c"]], features)
    assert rows.offsets.tolist() == [0, 2, 2, 3] and rows.rows(1).shape == (0, len(FEATURES))
    assert np.array_equal(rows.rows(2), features[2:3])
    rows.save(tmp_path / "deep" / "rows.npz")
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["rows.npz"]  # written through a temporary file
    loaded = SampleRows.load(tmp_path / "deep" / "rows.npz")
    assert loaded.sample_ids == ["s1", "s2", "s3"] and loaded.ids == [["a", "b"], [], ["c"]]
    assert np.array_equal(loaded.features, features, equal_nan=True) and loaded.features.dtype == np.float32


def test_no_samples_round_trip_and_concatenate(tmp_path):
    empty = SampleRows([], [], np.zeros((0, len(FEATURES)), np.float32))
    empty.save(tmp_path / "empty.npz")
    loaded = SampleRows.load(tmp_path / "empty.npz")
    assert loaded.sample_ids == [] and loaded.ids == [] and loaded.features.shape == (0, len(FEATURES))
    assert SampleRows.concat([]).features.shape == (0, len(FEATURES))
    one = SampleRows(["x"], [["a"]], np.ones((1, len(FEATURES)), np.float32))
    joined = SampleRows.concat([one, loaded, one])
    assert joined.sample_ids == ["x", "x"] and joined.ids == [["a"], ["a"]] and joined.features.shape[0] == 2


def test_training_rows_cover_every_training_sample_out_of_fold(stages):
    train = stages.dataset.samples("train", "std")
    rows, made = training_rows(stages, progress=False)
    assert sorted(rows.sample_ids) == sorted(s.sample_id for s in train) and len(train) > 0
    assert made["samples"] == len(train) and made["folds"] == FOLDS and "served retriever" in made["retriever"]
    assert "co-mention text from the other folds" in made["retriever"] and made["documents_encoded"] > 0
    assert rows.features.shape == (sum(map(len, rows.ids)), len(FEATURES))
    for ids in rows.ids:
        assert len(ids) == len(set(ids)) > 0 and set(ids) <= set(stages.catalog)
    # the tiny world's two training dialogues share a fold: the other folds mention nothing, so no sample's
    # co-mentions or item2vec come from its own dialogue (in-sample, "Up" is co-mentioned with "Toy Story")
    assert {fold_of(d.dialogue_id) for d in stages.dataset.train} == {fold_of(stages.dataset.train[0].dialogue_id)}
    up = next(n for n, s in enumerate(train) if "Up_(2009_film)" in s.gold[0])
    assert stages.priors.co_mention(stages.states([train[up].context])[0].mentioned)  # what in-sample would see
    sample = rows.rows(rows.sample_ids.index(train[up].sample_id))
    assert (sample[:, FEATURES.index("co_mention")] == 0).all()
    assert np.isnan(sample[:, FEATURES.index("item2vec_profile")]).all()
    assert np.isnan(sample[:, FEATURES.index("rank_in_co_mention")]).all()


def test_training_rows_are_reused_by_fold(stages, monkeypatch):
    first, made = training_rows(stages, progress=False)
    fold_retrievers = folds_module.FoldRetrievers

    def refuse(*args, **kwargs):
        raise AssertionError("computed again although cached")

    monkeypatch.setattr(folds_module, "FoldRetrievers", refuse)
    again, reused = training_rows(stages, progress=False)
    assert again.sample_ids == first.sample_ids and again.ids == first.ids
    assert np.array_equal(again.features, first.features, equal_nan=True) and reused["key"] == made["key"]

    # an interrupted build resumes at the fold it was on: only the missing fold is computed again
    monkeypatch.setattr(folds_module, "FoldRetrievers", fold_retrievers)
    fold = fold_of(stages.dataset.train[0].dialogue_id)  # the fold holding the samples
    missing = folds_module.artifacts_dir() / "ranker" / "inspired" / "folds" / f"{made['key']}-fold{fold}.npz"
    missing.unlink()
    computed = []
    sample_rows = folds_module.sample_rows
    monkeypatch.setattr(folds_module, "sample_rows",
                        lambda stages, finder, priors, samples: computed.append(len(samples)) or
                        sample_rows(stages, finder, priors, samples))
    resumed, _ = training_rows(stages, progress=False)
    assert computed == [len(first.sample_ids)] and missing.is_file()
    assert np.array_equal(resumed.features, first.features, equal_nan=True)


class CountingBase:
    """A base retriever's index, and an encoder that says what it was asked to encode."""

    def __init__(self, retriever):
        self.index, self.retriever, self.encoded = retriever.index, retriever, []

    def encode(self, queries):
        self.encoded.append(list(queries))
        return self.retriever.encode(queries)


def test_a_mapped_retriever_maps_cached_embeddings_and_encodes_only_new_queries(stages):
    import torch

    base = CountingBase(stages.retriever)
    dim = base.index.vectors().shape[1]
    identity = torch.nn.Linear(dim, dim)
    with torch.no_grad():
        identity.weight.copy_(torch.eye(dim))
        identity.bias.zero_()
    known = stages.retriever.encode(["crime movies"])[0]
    mapped = MappedRetriever(identity, base, {"crime movies": known})
    vectors = mapped.encode(["crime movies", "something scary", "something scary"])
    assert base.encoded == [["something scary", "something scary"]]  # "crime movies" came from the cache
    assert mapped.encode(["something scary"]).shape == (1, dim) and len(base.encoded) == 1  # kept once encoded
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0] * 3, abs=1e-5)
    # the identity map ranks as the base retriever does
    assert [i for i, _ in mapped.index.search(vectors[:1], 5)[0]] == [
        i for i, _ in stages.retriever.index.search(stages.retriever.encode(["crime movies"]), 5)[0]]
    reverse = torch.nn.Linear(dim, dim)  # a map that reverses the coordinates
    with torch.no_grad():
        reverse.weight.copy_(torch.eye(dim).flip(0))
        reverse.bias.zero_()
    flipped = MappedRetriever(reverse, base, {"crime movies": known}).encode(["crime movies"])[0]
    assert flipped == pytest.approx(known[::-1] / np.linalg.norm(known), abs=1e-5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the fold holding both tiny training dialogues trains on none
def test_with_a_calibrated_retriever_each_fold_gets_a_calibration_trained_without_it(make_stages, monkeypatch):
    from llmkb.retrieval.calibrate import CalibrationConfig, ensure_calibrated

    base = make_stages(dataset="inspired", use_llm=False)
    calibrated = ensure_calibrated(base.dataset, base.retriever, CalibrationConfig(epochs=2), progress=False)
    stages = make_stages(dataset="inspired", use_llm=False, retriever=calibrated)
    trained_on, train_map = [], folds_module.train_map
    monkeypatch.setattr(folds_module, "train_map", lambda train, valid, documents, pairs, *rest, **options: (
        trained_on.append((len(train), len(valid), len(pairs))) or train_map(train, valid, documents, pairs, *rest,
                                                                          **options)))
    fold_retrievers = FoldRetrievers(stages, progress=False)
    dialogues = stages.dataset.train
    retrievers = [fold_retrievers(fold, build_documents(stages.dataset, [d for d in dialogues
                                                                         if fold_of(d.dialogue_id) != fold]))
                  for fold in range(FOLDS)]
    train = stages.dataset.samples("train", "std")
    golds = sum(len(s.gold) for s in train)
    held = fold_of(train[0].dialogue_id)  # the fold of both tiny training dialogues: its map learns from neither
    assert trained_on == [(0, 1, 0) if fold == held else (len(train), 1, golds) for fold in range(FOLDS)]
    assert len(retrievers) == FOLDS and all(isinstance(r, MappedRetriever) for r in retrievers)
    how = fold_retrievers.how
    assert how.startswith("calibration maps trained without each fold") and "'epochs': 2" in how
    rows, made = training_rows(stages, progress=False)
    assert made["retriever"] == how and sorted(rows.sample_ids) == sorted(
        s.sample_id for s in stages.dataset.samples("train", "std"))
    assert rows.features.shape[0] == sum(map(len, rows.ids)) > 0


def test_document_vectors_encode_again_only_the_documents_whose_co_mention_text_changed(stages):
    retriever, dataset = stages.retriever, stages.dataset
    vectors, encoded = document_vectors(retriever, build_documents(dataset, dataset.train))
    assert encoded == 0 and np.array_equal(vectors, retriever.index.vectors())  # the served KB's own texts

    alone = build_documents(dataset, [])  # what a fold holding every training dialogue reads: no co-mentions
    changed = [n for n, (a, b) in enumerate(zip(retriever.documents, alone)) if a.text != b.text]
    assert changed and all("Often mentioned with" in retriever.documents[n].text for n in changed)
    vectors, encoded = document_vectors(retriever, alone)
    assert encoded == len(changed)  # the tiny world's documents are short: each change is within the window
    fresh = retriever.model.encode([alone[n].text for n in changed], normalize_embeddings=True)
    assert vectors[changed] == pytest.approx(fresh, abs=1e-5)
    kept = [n for n in range(len(alone)) if n not in changed]
    assert np.array_equal(vectors[kept], retriever.index.vectors()[kept])
    with pytest.raises(ValueError, match="not the retriever's items"):
        document_vectors(retriever, alone[::-1])

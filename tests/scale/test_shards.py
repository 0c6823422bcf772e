"""Shards on a real local Ray cluster: results in the driver's order, cached shards not run again, workers' errors
reported as the driver's."""

import functools
import json
import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.errors import LLMKBError, ModelError
from llmkb.evaluation.harness import rank_samples
from llmkb.evaluation.systems import CopyContext, make_system
from llmkb.scale import ShardedSystem, on_workers, run_shards, shards_of
from llmkb.scale.sharded import BatchRanker


@pytest.fixture(scope="module")
def tiny_samples(tiny_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset("redial", tiny_root).samples("test", "std")


def test_shards_come_back_by_index_from_both_workers(cluster, tiny_samples):
    shards = shards_of(tiny_samples, 1)
    got = {}
    run_shards(list(enumerate(shards)), functools.partial(BatchRanker, CopyContext), "rank", cluster,
               lambda i, result: got.setdefault(i, result), progress=False)
    assert sorted(got) == list(range(len(shards)))
    assert [got[i][0] for i in range(len(shards))] == rank_samples(CopyContext(), tiny_samples, progress=False)


def test_sharded_system_matches_one_process_and_reuses_cached_shards(cluster, tiny_samples, tmp_path):
    partial = tmp_path / "run.predictions.jsonl.partial"
    sharded = ShardedSystem(CopyContext, cluster, batch_size=None)
    assert sharded.rank_all(tiny_samples, partial, "fp", progress=False) == \
        rank_samples(CopyContext(), tiny_samples, progress=False)
    # a finished shard is read back, not ranked again: plant a marker in the first sample's cached candidates
    rows = [json.loads(line) for line in partial.read_text().splitlines()]
    first = tiny_samples[0].sample_id
    partial.write_text("".join(json.dumps({**r, "candidates": ["marker"]} if r["sample_id"] == first else r) + "\n"
                               for r in rows))
    assert sharded.rank_all(tiny_samples, partial, "fp", progress=False)[0] == ["marker"]
    assert sharded.rank_all(tiny_samples, partial, "another run", progress=False)[0] != ["marker"]


def test_a_workers_error_reaches_the_driver_as_it_was_raised(cluster, tiny_root, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset("redial", tiny_root)
    factory = functools.partial(BatchRanker, functools.partial(make_system, "retriever", dataset, tmp_path / "none"))
    with pytest.raises(ModelError, match="train-retriever"):
        run_shards([(0, dataset.samples("test", "std"))], factory, "rank", cluster, lambda i, r: None, progress=False)


def test_on_workers_hands_each_shard_back_with_its_items(cluster, tiny_samples):
    kept = []
    run = on_workers(functools.partial(BatchRanker, CopyContext), "rank", cluster, progress=False)
    run(shards_of(tiny_samples, 2), lambda shard, results: kept.append((shard, results)))
    assert sorted(s.sample_id for shard, _ in kept for s in shard) == sorted(s.sample_id for s in tiny_samples)
    assert all(len(shard) == len(results) for shard, results in kept)


def test_workers_must_be_positive():
    from llmkb.scale import connect

    with pytest.raises(LLMKBError, match="at least 1"):
        with connect(0):
            pass

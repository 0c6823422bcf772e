"""The protocol matches the standardized ReDial re-evaluation (Kostric & Balog): the naive system that lists the
context's movies, most recent first, with no popularity fill, scores std R@1 .043 and R@10 .090, and dedup 0."""

import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.evaluation import aggregate, sample_metrics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redial(mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset("redial", mirror)


def test_copy_context_without_fill_reproduces_the_published_check(redial):
    std = aggregate([sample_metrics(list(s.mentioned), s.gold) for s in redial.samples("test", "std")])
    assert std["recall@1"] == pytest.approx(0.043, abs=0.001)  # 0.0436
    assert std["recall@10"] == pytest.approx(0.090, abs=0.001)  # 0.0909
    dedup = aggregate([sample_metrics(list(s.mentioned), s.gold) for s in redial.samples("test", "dedup")])
    assert dedup["recall@1"] == dedup["recall@10"] == dedup["recall@50"] == 0

"""PROTOCOLS.md's check of the user-centric reading on the real ReDial test split: the published naive row (the
context's most recent movie, no popularity fill) is SR .100 / RDL .009 without dedup and 0 / 0 with dedup; the
reading in ``llmkb.evaluation.user_centric`` is the closest found (docs/results/interactive.md)."""

import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.evaluation.user_centric import user_centric

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("protocol, expected", [("std", {"SR": 0.098, "RDL": 0.0091}), ("dedup", {"SR": 0.0, "RDL": 0.0})])
def test_the_naive_row_is_reproduced_closely(mirror, protocol, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset("redial", mirror)
        samples = dataset.samples("test", protocol)
        naive = {s.sample_id: list(s.mentioned[:1]) for s in samples}
        result = user_centric(dataset.test, samples, naive)
    assert {key: result[key] for key in expected} == expected
    assert result["dialogues"] > 1300

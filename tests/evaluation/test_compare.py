"""Comparing two prediction files of the same samples."""

import json

import pytest

from llmkb.errors import LLMKBError
from llmkb.evaluation.compare import compare_rankings, format_comparison, read_predictions


def test_paired_difference_and_its_standard_error():
    golds = {"s1": ("a",), "s2": ("b",), "s3": ("c",), "s4": ("d",)}
    a = {"s1": ["a"], "s2": ["b"], "s3": ["x"], "s4": ["x"]}
    b = {"s1": ["a"], "s2": ["x"], "s3": ["x"], "s4": ["x"]}
    row = compare_rankings(a, b, golds)[1]
    assert (row["a"], row["b"], row["difference"], row["samples"]) == (0.5, 0.25, 0.25, 4)
    assert row["standard_error"] == pytest.approx(0.25)  # differences 0, 1, 0, 0: sd 0.5 over √4
    assert row["standard_error_a"] == pytest.approx((1 / 3) ** 0.5 / 2)
    assert "Recall@1" in format_comparison({1: row})


def test_files_of_other_samples_are_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"sample_id": "s1", "ranked": ["a"]}) + "\n")
    with pytest.raises(LLMKBError, match="lack a prediction"):
        compare_rankings(read_predictions(path), read_predictions(path), {"s1": ("a",), "s2": ("b",)})
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(LLMKBError, match="cannot read predictions"):
        read_predictions(tmp_path / "bad.jsonl")

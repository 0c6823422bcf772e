import pytest

from llmkb.errors import LLMKBError
from llmkb.postprocess import finalize_ranking


def test_matched_first_then_fallback_without_repeats():
    assert finalize_ranking(["b", "a", "b"], ["a", "c", "d", "e"], k=4) == ["b", "a", "c", "d"]


def test_exclude_and_allowed_filter_both_sources():
    ranking = finalize_ranking(["x", "seen"], ["seen", "a", "x", "b", "c"], k=3, exclude={"seen"}, allowed={"a", "b", "c"})
    assert ranking == ["a", "b", "c"]


def test_always_exactly_k_even_when_llm_found_nothing_or_too_much():
    assert finalize_ranking([], ["a", "b", "c"], k=2) == ["a", "b"]
    assert finalize_ranking(["a", "b", "c"], [], k=2) == ["a", "b"]
    assert finalize_ranking(["a"], ["b"], k=0) == []


def test_too_short_fallback_is_an_error_that_says_what_to_do():
    with pytest.raises(LLMKBError, match="longer fallback ranking"):
        finalize_ranking(["a"], ["a", "b"], k=3)

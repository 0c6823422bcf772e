import pytest
import torch

from llmkb.errors import LLMKBError
from llmkb.generation.prompt import render_chat
from llmkb.generation.scorer import rank_candidates, score_candidates

CANDIDATES = ["Heat (1995)", "Alien", "Aliens (1986)", "The Matrix (1999)", "Up", "Star Wars: Episode IV - A New Hope"]


def naive_scores(model, tokenizer, prompt, candidates):
    """Reference: one full forward pass over prompt + candidate per candidate, no cache, no padding."""
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
    sums = []
    for text in candidates:
        ids = tokenizer.encode(text, add_special_tokens=False)
        with torch.no_grad():
            logits = model(torch.tensor([prompt_ids + ids])).logits[0]
        logprobs = torch.log_softmax(logits[len(prompt_ids) - 1 : -1], dim=-1)
        sums.append(logprobs[torch.arange(len(ids)), torch.tensor(ids)].sum().item())
    return sums


@pytest.fixture()
def prompt(tokenizer):
    return render_chat(tokenizer, [{"role": "user", "content": "I loved Alien. Something similar?"}])


@pytest.mark.parametrize("batch_size", [64, 4])
def test_cached_batched_scores_equal_naive_scores(model, tokenizer, prompt, batch_size):
    scores = score_candidates(model, tokenizer, prompt, CANDIDATES, batch_size=batch_size)
    expected = naive_scores(model, tokenizer, prompt, CANDIDATES)
    assert [s.text for s in scores] == CANDIDATES
    for score, reference, text in zip(scores, expected, CANDIDATES):
        assert score.n_tokens == len(tokenizer.encode(text, add_special_tokens=False))
        assert score.sum_logprob == pytest.approx(reference, abs=1e-4)
        assert score.mean_logprob == pytest.approx(reference / score.n_tokens, abs=1e-4)


def test_suffix_is_scored_as_part_of_the_candidate(model, tokenizer, prompt):
    with_eos = score_candidates(model, tokenizer, prompt, ["Alien"], suffix=tokenizer.eos_token)[0]
    expected = naive_scores(model, tokenizer, prompt, ["Alien" + tokenizer.eos_token])[0]
    assert with_eos.n_tokens == 6 and with_eos.sum_logprob == pytest.approx(expected, abs=1e-4)


def test_rank_candidates_orders_by_mean_or_sum():
    from llmkb.generation.scorer import CandidateScore

    scores = [CandidateScore("a", -6.0, -1.0, 6), CandidateScore("b", -2.0, -2.0, 1), CandidateScore("c", -6.0, -1.0, 6)]
    assert rank_candidates(scores) == [0, 2, 1]
    assert rank_candidates(scores, by="sum") == [1, 0, 2]
    with pytest.raises(LLMKBError):
        rank_candidates(scores, by="max")


def test_empty_inputs(model, tokenizer, prompt):
    assert score_candidates(model, tokenizer, prompt, []) == []
    with pytest.raises(LLMKBError, match="empty"):
        score_candidates(model, tokenizer, "", ["Heat"])
    with pytest.raises(LLMKBError, match="no tokens"):
        score_candidates(model, tokenizer, prompt, ["Heat", ""])

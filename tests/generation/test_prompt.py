import pytest

from llmkb.data.records import RECOMMENDER, SEEKER, Turn
from llmkb.errors import LLMKBError
from llmkb.generation.prompt import SYSTEM_INSTRUCTION, PromptBudget, build_prompt, render_chat

DIALOGUE = [Turn(SEEKER, f"turn {i}: " + "words " * 10) if i % 2 == 0 else Turn(RECOMMENDER, f"turn {i}: ok") for i in range(8)]
DOCS = [(f"Movie {i} (199{i})", f"doc {i} " + "genre drama " * 20) for i in range(6)]


def count(tokenizer, text):
    return len(tokenizer.encode(text, add_special_tokens=False))


def test_all_parts_in_template_order(tokenizer):
    prompt = build_prompt(tokenizer, DIALOGUE[:2], DOCS[:2], ["horror", "Sigourney Weaver"], task="Pick one.")
    text = prompt.text
    assert text.startswith("<|im_start|>system\n" + SYSTEM_INSTRUCTION) and text.endswith("<|im_start|>assistant\n")
    positions = [text.index(part) for part in ("Candidate movies:", "- Movie 0 (1990)", "Seeker: turn 0", "Recommender: turn 1",
                                                "The seeker likes: horror; Sigourney Weaver", "Pick one.")]
    assert positions == sorted(positions)
    assert "only movies from the candidate list" in text
    assert prompt.n_tokens == count(tokenizer, text) and prompt.n_turns == 2 and len(prompt.documents) == 2


def test_budget_drops_lowest_ranked_docs_and_oldest_turns(tokenizer):
    budget = PromptBudget(max_tokens=900, kb_share=0.5, max_doc_tokens=60)
    prompt = build_prompt(tokenizer, DIALOGUE, DOCS, "drama", budget=budget)
    assert prompt.n_tokens <= 900
    assert 0 < len(prompt.documents) < len(DOCS) and prompt.documents == tuple(t for t, _ in DOCS[: len(prompt.documents)])
    assert 0 < prompt.n_turns < len(DIALOGUE)
    assert "turn 7" in prompt.text and "turn 0:" not in prompt.text  # newest kept, oldest dropped
    assert "..." in prompt.text  # each doc was cut to max_doc_tokens
    for title, _ in DOCS[: len(prompt.documents)]:
        line = next(line for line in prompt.text.splitlines() if line.startswith(f"- {title}"))
        assert count(tokenizer, line.split(": ", 1)[1]) <= 60


def test_deterministic(tokenizer):
    budget = PromptBudget(max_tokens=700)
    assert build_prompt(tokenizer, DIALOGUE, DOCS, budget=budget) == build_prompt(tokenizer, DIALOGUE, DOCS, budget=budget)


def test_fixed_parts_over_budget_is_an_error(tokenizer):
    with pytest.raises(LLMKBError, match="raise PromptBudget.max_tokens"):
        build_prompt(tokenizer, DIALOGUE, DOCS, budget=PromptBudget(max_tokens=50))


def test_template_without_system_role_gets_it_merged(tokenizer):
    strict = tokenizer.__class__(tokenizer_object=tokenizer.backend_tokenizer)
    strict.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    )
    text = render_chat(strict, [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert text == "[user] S\n\nU\n"

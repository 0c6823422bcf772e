import json
import math

import pytest

from llmkb.cli import main
from llmkb.evaluation.conversation import bleu, distinct, mean_interval, perplexity, side_by_side


def test_bleu_is_the_clipped_k_gram_precision_times_the_brevity_penalty():
    reference = "have you seen heat it is a great movie".split()  # 9 tokens
    # 4 tokens: bigrams (have you)(you seen)(seen alien): 2 of 3 match; brevity exp(1 - 9/4)
    assert bleu("have you seen alien".split(), reference, 2) == pytest.approx(2 / 3 * math.exp(1 - 9 / 4))
    assert bleu("have you seen alien".split(), reference, 4) == 0.0  # no 4-gram matches, no smoothing
    assert bleu(reference + ["!"], reference, 4) == pytest.approx(6 / 7)  # longer than the reference: no penalty
    assert bleu("the the the".split(), "the cat".split(), 1) == pytest.approx(1 / 3)  # counts are clipped
    assert bleu([], reference, 2) == 0.0 and bleu(["heat"], reference, 2) == 0.0


def test_distinct_counts_k_grams_over_the_corpus_per_reply():
    replies = [["a", "b", "c"], ["a", "b", "d"], []]
    assert distinct(replies, 2) == pytest.approx(3 / 3)  # ab, bc, bd over 3 replies
    assert distinct(replies, 3) == pytest.approx(2 / 3)
    assert distinct([], 2) == 0.0


def test_mean_interval_brackets_the_mean():
    mean, low, high = mean_interval([0.0, 1.0] * 20)
    assert mean == 0.5 and low < 0.5 < high
    assert mean_interval([2.0, 2.0]) == [2.0, 2.0, 2.0]


def test_perplexity_is_exp_of_the_mean_token_loss():
    import torch

    from tiny_models import tiny_llama, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = tiny_llama(len(tokenizer)).eval()
    prompt, target = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "Try Heat."
    found = perplexity(model, tokenizer, [prompt, prompt], [target, target], progress=False)
    ids = tokenizer.encode(prompt + target, add_special_tokens=False)
    start = len(tokenizer.encode(prompt, add_special_tokens=False))
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    loss = torch.nn.functional.cross_entropy(logits[start - 1 : -1], torch.tensor(ids[start:]))
    assert found["perplexity"] == pytest.approx(math.exp(float(loss)), rel=1e-4)
    assert found["samples"] == 2 and found["tokens"] == 2 * (len(ids) - start)


def _lists(dataset, path):
    ranked = sorted(dataset.catalog)
    path.write_text("".join(json.dumps({"sample_id": s.sample_id, "ranked": ranked}) + "\n"
                            for s in dataset.samples("test", "std")))
    return {s.sample_id: ranked for s in dataset.samples("test", "std")}


def _check(report, dataset):
    rows = [json.loads(line) for line in open(report["replies"])]
    m = report["metrics"]
    assert m["replies"] == len(rows) == len(dataset.samples("test", "std"))
    assert all(set(r["named"]) <= set(r["recommended"]) for r in rows)  # checked replies name only the list
    assert all(r["grounded"] and r["says_why"] for r in rows)  # state only facts the KB holds, and why
    assert m["item_ratio"] == 1.0 and 0 <= m["bleu2"][0] <= 1 and m["dist2"] > 0
    assert m["templated"] == pytest.approx(sum(r["templated"] for r in rows) / len(rows))
    return m


def test_evaluate_conversation_command_with_the_template(tiny_root, tiny_models, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path))
    from llmkb.data import load_dataset

    dataset = load_dataset("redial", tiny_root)
    predictions = tmp_path / "lists.jsonl"
    _lists(dataset, predictions)
    argv = ["--data-dir", str(tiny_root), "evaluate-conversation", "--dataset", "redial", "--system", "template",
            "--predictions", str(predictions), "--retriever", str(tiny_models["retriever"])]
    assert main(argv) == 0
    assert "BLEU-2" in capsys.readouterr().out
    report = json.loads((tmp_path / "runs" / "redial-test-conversation-template.report.json").read_text())
    m = _check(report, dataset)
    assert m["templated"] == 1.0 and "perplexity" not in m and report["command"]
    assert main([*argv[:6], "llm-trained", *argv[7:]]) == 2  # nothing trained yet: a clear error
    assert "llmkb train-replies" in capsys.readouterr().err
    assert main([*argv[:8], str(tmp_path / "missing.jsonl"), *argv[9:]]) == 2
    assert "no ranked lists" in capsys.readouterr().err


def test_llm_replies_are_checked_and_scored_with_perplexity(make_stages, tmp_path):
    from llmkb.evaluation.conversation import ConversationRun, evaluate_conversation

    stages = make_stages(llm_scoring=False)
    lists = _lists(stages.dataset, tmp_path / "lists.jsonl")
    run = ConversationRun("redial", "llm", "fixed", perplexity_samples=2)
    report = evaluate_conversation(stages, run, lists, tmp_path / "r.jsonl", tmp_path / "r.json", {}, progress=False)
    m = _check(report, stages.dataset)
    assert m["perplexity"]["samples"] == 2 and m["perplexity"]["perplexity"] > 1
    assert sum(m["fallbacks"].values()) == round(m["templated"] * m["replies"])  # each fallback says why


def test_side_by_side_shows_each_writers_reply_and_how_it_came_about(tmp_path):
    base = {"sample_id": "s1", "human": "Try Heat (1995)", "fallback": "", "dropped": [], "retried": False}
    rows = {"template": {**base, "reply": "You might enjoy Heat (1995).", "templated": True,
                         "fallback": "it names no movie of the list: x"},
            "writer": {**base, "reply": "Heat (1995) is tense.", "templated": False, "retried": True,
                       "dropped": ["It's a comedy."]}}
    paths = []
    for name, row in rows.items():
        paths.append(tmp_path / f"{name}.jsonl")
        paths[-1].write_text(json.dumps(row) + "\n")
    text = side_by_side(paths, ["template", "writer"], dialogue={"s1": "A tense film?"})
    assert "- *seeker:* A tense film?" in text and "- *human:* Try Heat (1995)" in text
    assert "*template:* You might enjoy Heat (1995). *(template: it names no movie of the list)*" in text
    assert "*writer:* Heat (1995) is tense. *(second attempt; left out: “It's a comedy.”)*" in text

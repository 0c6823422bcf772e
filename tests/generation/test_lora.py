import json

import pytest
import torch
from tiny_models import tiny_llama
from transformers import DataCollatorForSeq2Seq

from llmkb.errors import LLMKBError, ModelError
from llmkb.generation.lora import LoraSettings, TargetLogitsOnly, _tokenize, load_lora, train_lora

PAIRS = [("<|im_start|>user\nscary?<|im_end|>\n<|im_start|>assistant\n", "Alien (1979)"),
         ("<|im_start|>user\ncrime?<|im_end|>\n<|im_start|>assistant\n", "Heat (1995)")]


def test_loss_only_on_target_tokens_and_prompt_cut_from_the_left(tokenizer):
    row = _tokenize(tokenizer, "abcdefgh", "XY", max_length=6)
    assert row["input_ids"] == tokenizer.encode("fghXY", add_special_tokens=False) + [tokenizer.eos_token_id]
    assert row["labels"] == [-100] * 3 + tokenizer.encode("XY", add_special_tokens=False) + [tokenizer.eos_token_id]


def test_logits_only_at_targets_give_the_same_loss_as_logits_everywhere(tokenizer, model):
    rows = [_tokenize(tokenizer, prompt, target, max_length=64) for prompt, target in PAIRS + [("Seeker: hi", " Up")]]
    pad = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    full, kept = pad(rows), TargetLogitsOnly(pad)(rows)
    assert 0 < len(kept["logits_to_keep"]) < full["input_ids"].shape[1] - 5  # the prompts' positions are left out
    assert kept["shift_labels"].ne(-100).sum() == full["labels"][:, 1:].ne(-100).sum()  # every target token kept
    with torch.no_grad():
        everywhere = model(**full).loss
        at_targets = model(**kept)
    assert at_targets.logits.shape[1] == len(kept["logits_to_keep"])
    assert torch.allclose(at_targets.loss, everywhere, atol=1e-6)


def test_train_two_steps_save_and_reload(tokenizer, tmp_path):
    model = tiny_llama(len(tokenizer))
    settings = LoraSettings(r=4, alpha=8, dropout=0.0, learning_rate=5e-2, batch_size=2)
    tuned = train_lora(model, tokenizer, PAIRS, tmp_path / "adapter", max_steps=2, settings=settings)
    out = tmp_path / "adapter"
    assert {"adapter_config.json", "adapter_model.safetensors", "training_args.json", "loss_curve.json",
            "lora_settings.json"} <= {p.name for p in out.iterdir()}
    curve = json.loads((out / "loss_curve.json").read_text())
    assert [e["step"] for e in curve] == [1, 2] and all(e["loss"] > 0 for e in curve)
    assert json.loads((out / "training_args.json").read_text())["max_steps"] == 2
    trained = {n: p for n, p in tuned.named_parameters() if p.requires_grad}
    assert trained and all("lora_" in n for n in trained)  # only the adapters train
    assert any(p.abs().sum() > 0 for n, p in trained.items() if "lora_B" in n)  # B starts at zero; steps moved it

    ids = torch.tensor([tokenizer.encode(PAIRS[0][0] + PAIRS[0][1], add_special_tokens=False)])
    with torch.no_grad():
        expected = tuned(ids).logits
        reloaded = load_lora(tiny_llama(len(tokenizer)), out)
        merged = load_lora(tiny_llama(len(tokenizer)), out, merge=True)
        base = tiny_llama(len(tokenizer))(ids).logits
        assert torch.allclose(reloaded(ids).logits, expected, atol=1e-5)
        assert torch.allclose(merged(ids).logits, expected, atol=1e-4)
        assert not torch.allclose(base, expected, atol=1e-4)


def test_the_adapter_does_not_depend_on_the_callers_random_state(tokenizer, tmp_path):
    settings = LoraSettings(r=4, alpha=8, dropout=0.0, batch_size=2)
    adapters = []
    for draws in (0, 3):  # the app draws random numbers before training (its calibration maps); the command does not
        model = tiny_llama(len(tokenizer))  # seeds torch itself
        torch.rand(draws)
        tuned = train_lora(model, tokenizer, PAIRS, tmp_path / f"adapter-{draws}", max_steps=1, settings=settings)
        adapters.append({n: p.detach().clone() for n, p in tuned.named_parameters() if "lora_A" in n})
    assert adapters[0].keys() == adapters[1].keys() and adapters[0]
    assert all(torch.equal(adapters[0][n], adapters[1][n]) for n in adapters[0])


def test_errors_say_what_to_do(tokenizer, tmp_path):
    with pytest.raises(LLMKBError, match="no \\(prompt, target\\) pairs"):
        train_lora(tiny_llama(len(tokenizer)), tokenizer, [], tmp_path / "x")
    with pytest.raises(ModelError, match="run train_lora first"):
        load_lora(tiny_llama(len(tokenizer)), tmp_path)

import pytest
import torch
from tiny_models import tiny_llama

from llmkb.errors import ModelError
from llmkb.generation.llm import load_llm


def test_loads_a_local_hf_directory_in_eval_float32(tokenizer, tmp_path):
    saved = tiny_llama(len(tokenizer))
    saved.to(torch.float16).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    model, loaded_tokenizer = load_llm(tmp_path)
    assert model.dtype == torch.float32 and not model.training
    assert loaded_tokenizer.encode("Heat") == tokenizer.encode("Heat")
    assert loaded_tokenizer.pad_token is not None


@pytest.mark.parametrize("name", ["missing", "notes.txt", "empty-dir"])
def test_bad_paths_raise_model_error_saying_what_to_pass(tmp_path, name):
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(ModelError, match="HF model directory"):
        load_llm(tmp_path / name)


def test_unloadable_directory_raises_model_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="cannot load a causal LM"):
        load_llm(tmp_path)


def test_int8_copy_quantizes_the_copy_only_and_stays_close(tokenizer):
    from llmkb.generation.llm import int8_copy

    model = tiny_llama(len(tokenizer))
    before = {name: p.clone() for name, p in model.named_parameters()}
    fast = int8_copy(model)
    assert all(torch.equal(p, before[name]) for name, p in model.named_parameters())
    assert all(type(m) is torch.nn.Linear for m in model.modules() if isinstance(m, torch.nn.Linear))
    quantized = [m for m in fast.modules() if m._get_name() == "DynamicQuantizedLinear"]
    assert len(quantized) == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) - 1  # all but the output
    assert type(fast.lm_head) is torch.nn.Linear
    assert fast.get_input_embeddings().weight is model.get_input_embeddings().weight  # shared, not copied
    ids = torch.tensor([tokenizer.encode("Heat (1995) is a heist movie")])
    with torch.no_grad():
        exact, approx = model(ids).logits, fast(ids).logits
    assert (exact - approx).abs().max() < 0.05 * exact.abs().max()

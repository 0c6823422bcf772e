import pytest
import torch

from llmkb.generation.generate import generate_text, generate_texts, stream_text
from llmkb.generation.onnx import OnnxForward, _export, onnx_copy

PROMPTS = [f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n" for text in ("hi", "a longer message here")]


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    from tiny_models import tiny_llama, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = tiny_llama(len(tokenizer))
    folder = tmp_path_factory.mktemp("onnx")
    return model, onnx_copy(model, folder / "int8"), tokenizer, folder


def test_the_exported_graph_computes_what_the_model_does_step_by_step(tiny_onnx, tmp_path):
    import onnxruntime

    model, _, tokenizer, _ = tiny_onnx
    _export(model, tmp_path / "float32.onnx")
    exact = onnxruntime.InferenceSession(str(tmp_path / "float32.onnx"), providers=["CPUExecutionProvider"])
    ids = tokenizer(PROMPTS[1], return_tensors="pt").input_ids
    forward = OnnxForward(exact, model.config.num_hidden_layers)
    with torch.no_grad():
        ours, theirs = forward(ids), model(ids, use_cache=True)
        assert torch.allclose(ours.logits, theirs.logits, atol=1e-4)  # every position's, as perplexity reads them
        last_two = forward(ids, logits_to_keep=2).logits  # what generate asks for: 1, or prompt lookup's drafts + 1
        assert last_two.shape[1] == 2 and torch.allclose(last_two, theirs.logits[:, -2:], atol=1e-4)
        token = ours.logits[:, -1:].argmax(-1)
        ours, theirs = forward(token, cache=ours.cache), model(token, cache=theirs.cache)
        assert torch.allclose(ours.logits[0, -1], theirs.logits[0, -1], atol=1e-4)
        assert ours.cache.get_seq_length() == ids.shape[1] + 1


def test_the_8_bit_copy_stays_close_to_the_model_and_leaves_it_as_it_was(tiny_onnx):
    model, fast, tokenizer, _ = tiny_onnx
    ids = tokenizer(PROMPTS[0], return_tensors="pt").input_ids
    with torch.no_grad():
        exact, quantized = model(ids).logits[0, -1], fast(ids).logits[0, -1]
    assert (exact - quantized).abs().max() < 0.05 * exact.abs().max()
    assert type(model.forward) is not type(fast.forward)  # the model keeps its own forward
    assert next(fast.parameters()) is next(model.parameters())  # the copy shares the weights


def test_the_8_bit_copy_generates_through_transformers_batched_streamed_and_with_prompt_lookup(tiny_onnx):
    _, fast, tokenizer, _ = tiny_onnx
    one_by_one = [generate_text(fast, tokenizer, prompt, max_new_tokens=6) for prompt in PROMPTS]
    assert generate_texts(fast, tokenizer, PROMPTS, max_new_tokens=6) == one_by_one  # left-padded batch
    *_, streamed = stream_text(fast, tokenizer, PROMPTS[1], max_new_tokens=6, lookup=3)
    assert streamed == one_by_one[1]


def test_the_copy_is_exported_once_and_read_from_its_folder(tiny_onnx, monkeypatch):
    import llmkb.generation.onnx as onnx

    model, _, tokenizer, folder = tiny_onnx
    monkeypatch.setattr(onnx, "export_quantized", lambda *_: pytest.fail("exported again"))
    again = onnx_copy(model, folder / "int8")
    assert generate_text(again, tokenizer, PROMPTS[0], max_new_tokens=4) is not None
    assert sorted(p.name for p in (folder / "int8").iterdir()) == ["model.onnx", "model.onnx.data"]

"""Crossbar counts on the real packaged models (integration: needs the model packages)."""

import pytest

import rram


def _path(kind):
    models = pytest.importorskip("llmkb.models", reason="llmkb not importable")
    try:
        return getattr(models, f"default_{kind}_path")()
    except Exception as e:  # ModelError when the package is missing
        pytest.skip(f"packaged {kind} model missing: {e}")


@pytest.mark.integration
@pytest.mark.slow
def test_minilm_real_count():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(_path("retriever")), device="cpu")
    rram.convert(model, rram.RRAMConfig.build(method="dense"), exclude=["*pooler*"])
    assert len(rram.crossbar_modules(model)) == 36
    assert sum(m.layer_map(n).crossbars for n, m in rram.crossbar_modules(model)) == 5184


@pytest.mark.integration
@pytest.mark.slow
def test_smollm2_real_shapes():
    from transformers import AutoConfig

    p = _path("llm")
    cfg = AutoConfig.from_pretrained(p.parent, gguf_file=p.name)
    h, i, kv = cfg.hidden_size, cfg.intermediate_size, cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads)
    shapes = [(h, h), (h, kv), (h, kv), (h, h), (h, i), (h, i), (i, h)] * cfg.num_hidden_layers
    assert len(shapes) == 210
    xbar = rram.CrossbarConfig()
    from rram.mapping import count_crossbars

    assert count_crossbars(shapes, 8, xbar) == 56160
    assert count_crossbars(shapes + [(h, cfg.vocab_size)], 8, xbar) == 71520

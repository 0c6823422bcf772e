"""``llmkb kb build``: write ``kb.jsonl`` and ``manifest.json``, cached by the hash of every input file.

The manifest is written last, so a build interrupted half-way is simply rebuilt on the next run.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from llmkb.data.dataset import Dataset
from llmkb.data.io import atomic_write_json, atomic_write_jsonl, read_jsonl, require_file, sha256_file
from llmkb.kb.documents import KBDocument, build_documents
from llmkb.paths import artifacts_dir

KB_VERSION = 4  # bump when documents change shape or content rules (4: misattributed metadata left out)


def default_kb_dir(dataset: str) -> Path:
    return artifacts_dir() / "kb" / dataset


def _inputs(dataset: Dataset) -> list[dict]:
    return [{"path": str(p.relative_to(dataset.root)), "sha256": sha256_file(require_file(p)), "bytes": p.stat().st_size}
            for p in dataset.input_files()]


def build_kb(dataset: Dataset, out_dir: str | Path | None = None, force: bool = False) -> tuple[Path, bool]:
    """Build (or reuse) the KB of ``dataset``; returns (folder, whether it was rebuilt)."""
    out = Path(out_dir) if out_dir is not None else default_kb_dir(dataset.name)
    inputs = _inputs(dataset)
    cache_key = hashlib.sha256(json.dumps([KB_VERSION, dataset.name, inputs], sort_keys=True).encode()).hexdigest()
    manifest_path = out / "manifest.json"
    if not force and manifest_path.is_file() and (out / "kb.jsonl").is_file():
        if json.loads(manifest_path.read_text()).get("cache_key") == cache_key:
            return out, False
    started = time.time()
    co_mention_source = dataset.train  # training dialogues only: never valid (model selection) or test
    documents = build_documents(dataset, co_mention_source)
    atomic_write_jsonl(out / "kb.jsonl", [doc.to_json() for doc in documents])
    n = len(documents)
    atomic_write_json(manifest_path, {
        "dataset": dataset.name,
        "kb_version": KB_VERSION,
        "cache_key": cache_key,
        "inputs": inputs,
        "counts": {
            "documents": n,
            "with_kg_facts": sum("kg" in d.sources for d in documents),
            "with_metadata": sum("metadata" in d.sources for d in documents),
            "with_co_mentions": sum("dialogues" in d.sources for d in documents),
            "title_only": sum(not d.sources for d in documents),
        },
        "co_mention_dialogues": sorted(d.dialogue_id for d in co_mention_source),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 2),
    })
    return out, True


def load_kb(folder: str | Path) -> list[KBDocument]:
    path = require_file(Path(folder) / "kb.jsonl", hint="build it with `llmkb kb build --dataset NAME`")
    return [KBDocument(**row) for _, row in read_jsonl(path, expect=dict)]

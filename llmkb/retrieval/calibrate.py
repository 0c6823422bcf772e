"""Embedding calibration in minutes: a linear map on top of the frozen encoder, trained on cached embeddings.

The base encoder embeds each training sample's query and every KB document once. A linear layer (W, b), starting
at the identity, is then trained so that normalise(W·q + b) scores each gold document above the whole rest of the
catalogue (cross-entropy over all documents, temperature ``CalibrationConfig.temperature``), the documents going
through the same map. Because the map is shared, the calibrated retriever is an ordinary sentence-transformers
model: the base modules, then a ``Dense`` layer and ``Normalize``. The epoch kept is the one with the best
validation Recall@50 (epoch 0 is the base itself, so calibration never makes validation worse), and the index of
the calibrated model is written from the cached document embeddings, without a second encoding pass.

It takes 2–3 minutes for ReDial on 2 CPU cores, against 41 for the full fine-tuning (``llmkb.retrieval.train``),
most of it encoding the queries. Everything is cached under ``artifacts/retriever/DATASET/calibrated`` and keyed by
its inputs (base model, KB documents, queries, golds, settings): :func:`ensure_calibrated` reuses a current build,
and the query embeddings survive an interruption.

>>> from llmkb.data import load_dataset
>>> from llmkb.retrieval.retriever import load_encoder
>>> dataset = load_dataset("inspired", data_dir)
>>> base = DenseRetriever.for_dataset(dataset, encoder_path, progress=False)
>>> calibrated = ensure_calibrated(dataset, base, progress=False)
>>> load_encoder(calibrated).encode(["a heist thriller"]).shape[0]
1
>>> record = calibration_record(calibrated)
>>> record["valid_recall@50"]["best"] >= record["valid_recall@50"]["base"]
True
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from llmkb.data.dataset import Dataset
from llmkb.data.io import atomic_write_json
from llmkb.errors import LLMKBError
from llmkb.retrieval.artifacts import calibrated_path, calibration_record
from llmkb.retrieval.index import DenseIndex, model_fingerprint
from llmkb.retrieval.retriever import DenseRetriever

CHUNK = 256  # queries encoded per progress step
Report = Callable[[float], None]  # fraction done, for a status line


@dataclass(frozen=True)
class CalibrationConfig:
    epochs: int = 20
    patience: int = 3  # epochs without a better validation Recall@50 before stopping
    learning_rate: float = 1e-3
    temperature: float = 0.05
    batch_size: int = 256
    seed: int = 13


def ensure_calibrated(dataset: Dataset, base: DenseRetriever, config: CalibrationConfig = CalibrationConfig(),
                      report: Report | None = None, progress: bool = True) -> Path:
    """The calibrated model of ``base`` on ``dataset``: reused when built from the same inputs, else (re)built."""
    out = calibrated_path(dataset.name)
    queries, key = calibration_inputs(dataset, base, config)
    if calibration_record(out).get("inputs") == key and (out / "modules.json").is_file():
        return out
    calibrate_retriever(dataset, base, out.parent, queries, key, config, report, progress)
    return out


def calibration_inputs(dataset: Dataset, base: DenseRetriever, config: CalibrationConfig) -> tuple[list[str], str]:
    """The query texts of the training then validation samples (std), and the :func:`inputs_key` of a calibration."""
    samples = [*dataset.samples("train", "std"), *dataset.samples("valid", "std")]
    queries = [base.query_builder.build(s.context) for s in samples]
    return queries, inputs_key(base, queries, [s.gold for s in samples], config)


def query_embeddings(dataset: Dataset, base: DenseRetriever, config: CalibrationConfig = CalibrationConfig(),
                     progress: bool = True) -> tuple[list[str], np.ndarray]:
    """The training then validation query texts and their base embeddings, from the calibration's cache."""
    queries, _ = calibration_inputs(dataset, base, config)
    return queries, encode_cached(base, queries, query_cache(dataset.name, base, queries), None, progress)


def query_cache(dataset: str, base: DenseRetriever, queries: list[str]) -> Path:
    """Where the base encoder's embeddings of ``queries`` are kept (whatever the calibration's settings)."""
    key = hashlib.sha256(json.dumps([model_fingerprint(base.model_path), queries]).encode()).hexdigest()[:16]
    return calibrated_path(dataset).parent / "cache" / f"queries-{key}.npy"


def inputs_key(base: DenseRetriever, queries: list[str], golds: list, config: CalibrationConfig) -> str:
    parts = [model_fingerprint(base.model_path), [d.text for d in base.documents], queries, golds, asdict(config)]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def calibrate_retriever(dataset: Dataset, base: DenseRetriever, out: Path, queries: list[str], key: str,
                        config: CalibrationConfig = CalibrationConfig(), report: Report | None = None,
                        progress: bool = True) -> dict:
    """Train the map on ``dataset``'s training samples, keep the best epoch on valid; write ``out/model``, the
    calibrated model's index and ``out/calibration.json``. ``queries``: the training then validation samples'
    query texts; ``key``: their :func:`inputs_key` (both from :func:`ensure_calibrated`). Returns the record."""
    started = time.time()
    train, valid = dataset.samples("train", "std"), dataset.samples("valid", "std")
    if not train or not valid:
        raise LLMKBError(f"{dataset.name} has no training or validation samples to calibrate the retriever on")
    embedded = encode_cached(base, queries, query_cache(dataset.name, base, queries), report, progress)
    documents = torch.from_numpy(base.index.vectors())
    position = {item: n for n, item in enumerate(base.index.item_ids)}
    pairs = torch.tensor([(n, position[g]) for n, s in enumerate(train) for g in s.gold if g in position])
    golds = [{position[g] for g in s.gold if g in position} for s in valid]
    linear, curve = train_map(torch.from_numpy(embedded[: len(train)]), torch.from_numpy(embedded[len(train):]),
                              documents, pairs, golds, config, report, progress)
    best = max(curve, key=lambda point: (point["valid_recall@50"], -point["epoch"]))
    record = {"dataset": dataset.name, "inputs": key, "base": str(base.model_path),
              "base_fingerprint": model_fingerprint(base.model_path), "config": asdict(config),
              "training_pairs": len(pairs), "train_samples": len(train), "valid_samples": len(valid),
              "valid_recall@50": {"base": curve[0]["valid_recall@50"], "best": best["valid_recall@50"]},
              "best_epoch": best["epoch"], "curve": curve, "seconds": round(time.time() - started, 1),
              "date": time.strftime("%Y-%m-%d")}
    save_calibrated(base, linear(best["epoch"]), out, dataset.name, record)
    return record


def encode_cached(base: DenseRetriever, texts: list[str], cache: Path, report: Report | None,
                  progress: bool) -> np.ndarray:
    """The base encoder's embeddings of ``texts``, from ``cache`` when a run already wrote them (chunks done so far
    are kept in ``cache``'s folder, so an interrupted encoding resumes)."""
    if cache.is_file():
        return np.load(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    chunks = []
    for n, start in enumerate(tqdm(range(0, len(texts), CHUNK), desc="encoding the queries", unit="chunk",
                                   disable=not progress)):
        part = cache.with_name(f"{cache.stem}.part{n:04d}.npy")
        if part.is_file():
            chunks.append(np.load(part))
        else:
            chunks.append(base.model.encode(texts[start:start + CHUNK], batch_size=64, convert_to_numpy=True))
            _atomic_save(part, chunks[-1])
        if report:
            report(0.8 * (start + CHUNK) / len(texts))
    embedded = np.concatenate(chunks).astype(np.float32)
    _atomic_save(cache, embedded)
    for part in cache.parent.glob(f"{cache.stem}.part*.npy"):
        part.unlink()
    return embedded


def train_map(train: torch.Tensor, valid: torch.Tensor, documents: torch.Tensor, pairs: torch.Tensor,
              valid_golds: list[set[int]], config: CalibrationConfig, report: Report | None = None,
              progress: bool = True) -> tuple[Callable[[int], torch.nn.Linear], list[dict]]:
    """Train W, b on (query row, document row) ``pairs``; returns epoch → the map after it, and the curve."""
    torch.manual_seed(config.seed)
    dim = documents.shape[1]
    linear = torch.nn.Linear(dim, dim)
    with torch.no_grad():
        linear.weight.copy_(torch.eye(dim))
        linear.bias.zero_()
    optimizer = torch.optim.AdamW(linear.parameters(), lr=config.learning_rate, weight_decay=0.0)
    states = {0: {k: v.clone() for k, v in linear.state_dict().items()}}
    curve = [{"epoch": 0, "loss": None, "valid_recall@50": recall_at(linear, valid, documents, valid_golds)}]
    best, waited = curve[0]["valid_recall@50"], 0
    for epoch in tqdm(range(1, config.epochs + 1), desc="calibrating", unit="epoch", disable=not progress):
        order, losses = torch.randperm(len(pairs)), []
        for start in range(0, len(order), config.batch_size):
            batch = pairs[order[start:start + config.batch_size]]
            queries = torch.nn.functional.normalize(linear(train[batch[:, 0]]), dim=-1)
            docs = torch.nn.functional.normalize(linear(documents), dim=-1)
            loss = torch.nn.functional.cross_entropy(queries @ docs.T / config.temperature, batch[:, 1])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        curve.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4),
                      "valid_recall@50": recall_at(linear, valid, documents, valid_golds)})
        states[epoch] = {k: v.clone() for k, v in linear.state_dict().items()}
        if report:
            report(0.8 + 0.2 * epoch / config.epochs)
        if curve[-1]["valid_recall@50"] > best + 1e-9:
            best, waited = curve[-1]["valid_recall@50"], 0
        else:
            waited += 1
            if waited >= config.patience:
                break

    def at(epoch: int) -> torch.nn.Linear:
        chosen = torch.nn.Linear(dim, dim)
        chosen.load_state_dict(states[epoch])
        return chosen

    return at, curve


@torch.no_grad()
def recall_at(linear: torch.nn.Linear, queries: torch.Tensor, documents: torch.Tensor, golds: list[set[int]],
              k: int = 50) -> float:
    """Mean per-sample Recall@k of the mapped queries against the mapped documents."""
    q = torch.nn.functional.normalize(linear(queries), dim=-1)
    d = torch.nn.functional.normalize(linear(documents), dim=-1)
    top = (q @ d.T).topk(min(k, len(d)), dim=1).indices.tolist()
    hits = [len(gold & set(row)) / len(gold) for row, gold in zip(top, golds) if gold]
    return round(float(np.mean(hits)), 4) if hits else 0.0


def save_calibrated(base: DenseRetriever, linear: torch.nn.Linear, out: Path, dataset: str, record: dict) -> None:
    """Write the base modules + Dense + Normalize as ``out/model`` (via a temp folder), its index, and the record."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Dense, Normalize

    dim = linear.in_features
    dense = Dense(dim, dim, bias=True, activation_function=torch.nn.Identity(),
                  init_weight=linear.weight.detach().clone(), init_bias=linear.bias.detach().clone())
    model = SentenceTransformer(modules=[*base.model, dense, Normalize()], device="cpu")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".model-", dir=out))
    model.save(str(tmp))
    with torch.no_grad():
        vectors = linear(torch.from_numpy(base.index.vectors())).numpy()
    index = DenseIndex.build(vectors, base.index.item_ids, base.index_kind)
    target = out / "model"
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)  # the fingerprint (names, sizes, mtimes) survives the rename
    model.max_seq_length = base.model.max_seq_length
    retriever_cache = DenseRetriever.cache_dir(dataset, target, base.index_kind)
    index.save(retriever_cache, {**DenseRetriever.index_key(target, [d.text for d in base.documents],
                                                            base.index_kind, base.model.max_seq_length),
                                 "model_path": str(target), "items": len(vectors),
                                 "built": "from the base model's document embeddings through the calibration map"})
    atomic_write_json(out / "calibration.json", record)  # last: marks the build complete


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, array)
    tmp.replace(path)

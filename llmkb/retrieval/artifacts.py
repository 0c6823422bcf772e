"""Which retriever model is there to use: where training and calibration put their models, and which one the
recommender takes by default. Below both the retriever and its calibration, which each read it.

>>> calibrated_path("redial").parts[-4:], calibration_record(calibrated_path("no-such-dataset"))
(('retriever', 'redial', 'calibrated', 'model'), {})
"""

from __future__ import annotations

import json
from pathlib import Path

from llmkb.models import default_retriever_path
from llmkb.paths import artifacts_dir
from llmkb.retrieval.index import model_fingerprint


def finetuned_path(dataset: str) -> Path:
    """Where ``llmkb train-retriever`` puts the fine-tuned model for ``dataset``."""
    return artifacts_dir() / "retriever" / dataset / "model"


def calibrated_path(dataset: str) -> Path:
    """Where ``llmkb calibrate-retriever`` puts the calibrated model of ``dataset``."""
    return artifacts_dir() / "retriever" / dataset / "calibrated" / "model"


def calibration_record(model: Path) -> dict:
    """What ``calibration.json`` beside a calibrated ``model`` says (empty when there is none)."""
    try:
        return json.loads((Path(model).parent / "calibration.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def calibration_base(dataset: str) -> Path:
    """What the calibration starts from: the fine-tuned retriever for ``dataset`` when trained, else the packaged
    MiniLM."""
    path = finetuned_path(dataset)
    return path if (path / "modules.json").is_file() else default_retriever_path()


def best_available(dataset: str) -> Path:
    """The retriever the recommender uses by default: the calibrated one (``llmkb calibrate-retriever``) when it was
    built on the current base, else the base itself (:func:`calibration_base`)."""
    base, calibrated = calibration_base(dataset), calibrated_path(dataset)
    record = calibration_record(calibrated)
    current = (calibrated / "modules.json").is_file() and record.get("base_fingerprint") == model_fingerprint(base)
    return calibrated if current else base

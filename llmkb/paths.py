"""Default locations, each overridable by an environment variable or a command-line flag."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Where `llmkb data fetch` puts the public files (``LLMKB_DATA_DIR``, default ``./data``)."""
    return Path(os.environ.get("LLMKB_DATA_DIR", "data"))


def artifacts_dir() -> Path:
    """Where built things go: KBs, indexes, trained and pruned models, runs (``LLMKB_ARTIFACTS``, default ``./artifacts``)."""
    return Path(os.environ.get("LLMKB_ARTIFACTS", "artifacts"))

import os
from pathlib import Path

import pytest
from tiny_data import write_tiny_data  # tests/ is on sys.path (pytest's default import mode)

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("LLMKB_DATA_SOURCE") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("tiny") / "data")


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real public data (../shared/data or $LLMKB_DATA_SOURCE); skips when it is absent."""
    if not (MIRROR / "redial" / "raw" / "test_data.jsonl").is_file():
        pytest.skip(f"real data mirror not found at {MIRROR}; set LLMKB_DATA_SOURCE to a folder laid out like ../shared/data")
    return MIRROR

"""``llmkb data fetch``: install the public files under the data directory, from a local mirror or the official URLs.

Every file is checked against the sha256 in ``sources.json``; a file already in place with the right hash is kept,
so the command is idempotent and resumes where an interrupted run stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.data.dataset import OPTIONAL_FILES
from llmkb.data.io import sha256_file
from llmkb.errors import DataError

SOURCES = Path(__file__).with_name("sources.json")
ENV_SOURCE = "LLMKB_DATA_SOURCE"


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the data directory
    url: str
    sha256: str
    bytes: int


def source_files() -> list[SourceFile]:
    return [SourceFile(**entry) for entry in json.loads(SOURCES.read_text())["files"]]


def _copy_verified(fetch, expected_sha: str | None, dest: Path, label: str) -> None:
    """Write via ``fetch(temp_path)``, check the hash, then move into place atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    try:
        fetch(Path(tmp))
        if expected_sha is not None and (actual := sha256_file(tmp)) != expected_sha:
            raise DataError(f"sha256 mismatch for {label}: expected {expected_sha[:12]}…, got {actual[:12]}…",
                            path=dest, hint="the source holds a different version of the file; use the public copy")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DataError(f"could not download {url} ({exc})",
                        hint=f"offline? pass a local mirror with `llmkb data fetch --source DIR` or set {ENV_SOURCE}") from exc


def fetch(data_dir: str | Path, source: str | Path | None = None, progress: bool = True) -> dict[str, str]:
    """Install every file of ``sources.json`` under ``data_dir``; returns path → "kept" | "copied" | "downloaded".

    With ``source`` (or ``$LLMKB_DATA_SOURCE``), files are copied from that mirror (laid out like the data
    directory); otherwise they are downloaded from their official URLs. Optional files such as the full official
    ``redial/raw/train_data.jsonl`` are copied from the mirror when it has them.
    """
    data_dir = Path(data_dir)
    source = source or os.environ.get(ENV_SOURCE) or None
    if source is not None and not Path(source).is_dir():
        raise DataError("the mirror folder does not exist", path=source, hint="pass the folder that holds redial/ and inspired/")
    status: dict[str, str] = {}
    files = source_files()
    for entry in tqdm(files, desc="fetching data", unit="file", disable=not progress):
        dest = data_dir / entry.path
        if dest.is_file() and dest.stat().st_size == entry.bytes and sha256_file(dest) == entry.sha256:
            status[entry.path] = "kept"
            continue
        if source is not None:
            origin = Path(source) / entry.path
            if not origin.is_file():
                raise DataError("missing from the mirror", path=origin, hint=f"the official copy is at {entry.url}")
            _copy_verified(lambda tmp: shutil.copyfile(origin, tmp), entry.sha256, dest, entry.path)
            status[entry.path] = "copied"
        else:
            _copy_verified(lambda tmp: _download(entry.url, tmp), entry.sha256, dest, entry.path)
            status[entry.path] = "downloaded"
    for rel in sorted(OPTIONAL_FILES) if source is not None else []:
        origin, dest = Path(source) / rel, data_dir / rel
        if origin.is_file() and not dest.exists():
            _copy_verified(lambda tmp: shutil.copyfile(origin, tmp), None, dest, rel)
            status[rel] = "copied"
    return status

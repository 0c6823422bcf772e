"""Reading the public files defensively: every problem names the file and line, and one bad record never sinks a file.

Also the one place that writes files atomically (temp file in the same folder, then rename).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmkb.errors import DataError


class DataWarning(UserWarning):
    """A record was skipped or repaired; the message names the file and line."""


def warn(message: str, path: str | Path, line: int | None = None) -> None:
    where = f"{path}:{line}" if line is not None else str(path)
    warnings.warn(DataWarning(f"{where}: {message}"), stacklevel=3)


def require_file(path: str | Path, hint: str = "run `llmkb data fetch --source DIR` first") -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path, hint=hint)
    return path


def read_jsonl(path: str | Path, expect: type | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, object)`` for each valid line; warn and skip a malformed or mistyped line.

    >>> # for line_no, dialogue in read_jsonl("data/redial/raw/test_data.jsonl", expect=dict): ...
    """
    path = require_file(path)
    bad = 0
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                bad += 1
                warn(f"skipped a line that is not valid JSON ({exc.msg} at column {exc.colno}); "
                     "the file may be truncated: re-fetch it", path, line_no)
                continue
            if expect is not None and not isinstance(record, expect):
                bad += 1
                warn(f"skipped a {type(record).__name__} where a {expect.__name__} was expected", path, line_no)
                continue
            yield line_no, record
    if bad and bad == line_no:
        raise DataError("no valid line in the file", path=path, hint="re-fetch it with `llmkb data fetch`")


# Documented defects of public files, repaired only when the file does not parse as it is.
# cfcrs/id2info.json: one stray 'f' after a record (see data/redial/cfcrs/SOURCE.md in the mirror).
KNOWN_REPAIRS: dict[str, list[tuple[str, str]]] = {
    "id2info.json": [('"}f, "', '"}, "')],
}


def read_json(path: str | Path) -> Any:
    """Parse a JSON file, applying a documented repair (with a warning) if the file is known to be defective."""
    path = require_file(path)
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first_error = exc
    repaired = text
    for bad, good in KNOWN_REPAIRS.get(path.name, []):
        repaired = repaired.replace(bad, good)
    if repaired != text:
        try:
            data = json.loads(repaired)
        except json.JSONDecodeError:
            pass
        else:
            warn(f"repaired a known defect ({first_error.msg}); the rest of the file is used as published",
                 path, first_error.lineno)
            return data
    raise DataError(f"not valid JSON: {first_error.msg} at column {first_error.colno}", path=path,
                    line=first_error.lineno, hint="re-fetch the file with `llmkb data fetch`")


class _PlainDataUnpickler(pickle.Unpickler):
    """Accepts plain containers and scalars only; anything that could run code is refused."""

    ALLOWED = {
        ("collections", "defaultdict"), ("collections", "OrderedDict"),
        ("builtins", "dict"), ("builtins", "list"), ("builtins", "set"), ("builtins", "frozenset"),
        ("builtins", "tuple"), ("builtins", "str"), ("builtins", "int"), ("builtins", "float"),
        ("builtins", "bool"), ("builtins", "bytes"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only plain data is accepted")
        return super().find_class(module, name)


def read_plain_pickle(path: str | Path) -> Any:
    """Load a pickle that must hold only plain data (dicts, lists, numbers, strings)."""
    path = require_file(path)
    try:
        return _PlainDataUnpickler(io.BytesIO(path.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DataError(f"refused or failed to unpickle: {exc}", path=path,
                        hint="this file should hold plain data only; re-fetch it from a trusted source") from exc


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_directory(target: str | Path, complete: str) -> Iterator[Path]:
    """A temp folder beside ``target`` to write a whole folder into; when the block ends it is renamed to ``target``
    (readable by everyone using the checkout). On failure the temp folder is removed and the error raised, unless
    ``target`` already holds its ``complete`` file: another process wrote it first, and that one is kept.

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> with atomic_directory(target, "done.txt") as work:
    ...     _ = (work / "done.txt").write_text("ok")
    >>> sorted(p.name for p in target.parent.iterdir()), (target / "done.txt").read_text()
    (['model'], 'ok')
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield work
        os.chmod(work, 0o755)  # mkdtemp makes it private
        os.replace(work, target)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        if not (target / complete).is_file():  # not merely a lost race with another process
            raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def atomic_write_jsonl(path: str | Path, rows: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


class AppendCache:
    """key → a JSON object, persisted as append-only JSON lines ``{"key": ..., **row}`` so an interrupted job keeps
    what it finished (a torn last line is ignored); ``path=None`` keeps it in memory only.

    >>> cache = AppendCache(None)
    >>> cache.add({"a": {"n": 1}}); "a" in cache, cache["a"]
    (True, {'n': 1})
    """

    def __init__(self, path: str | Path | None, key: str = "key"):
        self.path, self.key = (Path(path) if path else None), key
        self.rows: dict[str, dict] = {}
        if self.path and self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.rows[row.pop(key)] = row
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a line cut short by an interruption: its key is computed again

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def __getitem__(self, key: str) -> dict:
        return self.rows[key]

    def add(self, rows: dict[str, dict]) -> None:
        """Keep ``rows`` and append them to the file, synced to disk."""
        self.rows.update(rows)
        if self.path is None or not rows:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps({self.key: key, **row}, ensure_ascii=False) + "\n" for key, row in rows.items())
        # one write on an O_APPEND descriptor: processes appending to the same file (Ray workers) never interleave
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data.encode("utf-8"))
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

"""Atomic file writes: write to a temporary file beside the target, then rename it over the target.

Example::

    >>> import tempfile, pathlib
    >>> from rram.files import atomic_write
    >>> path = atomic_write(pathlib.Path(tempfile.mkdtemp()) / "a" / "x.txt", "hello")
    >>> path.read_text()
    'hello'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | Path, data: str | bytes | Callable[[BinaryIO], object]) -> Path:
    """Write ``data`` (text, bytes, or a function that writes into a binary file) to ``path``; return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""Errors that tell the user what was wrong, where, and what to do."""

from __future__ import annotations

from pathlib import Path


class LLMKBError(Exception):
    """Base class for every error the project raises on purpose (the CLI prints these without a traceback)."""


class DataError(LLMKBError):
    """A data file is missing or malformed.

    >>> str(DataError("not valid JSON", path="x.jsonl", line=3, hint="re-run `llmkb data fetch`"))
    'x.jsonl:3: not valid JSON (re-run `llmkb data fetch`)'
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None, hint: str | None = None):
        self.path, self.line, self.hint = path, line, hint
        where = f"{path}:{line}: " if path is not None and line is not None else f"{path}: " if path is not None else ""
        super().__init__(f"{where}{message}" + (f" ({hint})" if hint else ""))


class ModelError(LLMKBError):
    """A model path is missing or the model cannot be loaded."""

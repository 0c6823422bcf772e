"""MovieLens ml-latest-small (GroupLens; Harper & Konstan, ACM TiiS 2015): external behaviour data about the same
movies, read straight from the official zip. It holds no dialogue and no test item list of either dataset.

Only the ratings, the titles and the IMDb links are read; ``llmkb.priors.behaviour`` maps them to a catalogue.
Research use with a citation; commercial use needs GroupLens's permission (see data/README.md).

>>> split_movielens_title("American President, The (1995)")
('The American President', 1995)
>>> split_movielens_title("Seven (a.k.a. Se7en) (1995)")
('Seven', 1995)
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmkb.data.io import require_file, sha256_file, warn
from llmkb.errors import DataError
from llmkb.paths import data_dir

ZIP = "movielens/ml-latest-small.zip"
MEMBER = "ml-latest-small/{}.csv"
_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_ALIAS = re.compile(r"\s*\((?:a\.k\.a\.|aka)[^)]*\)", re.IGNORECASE)
_ARTICLE = re.compile(r"^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$")


def split_movielens_title(title: str) -> tuple[str, int | None]:
    """MovieLens writes "Matrix, The (1999)" and adds aliases in brackets: the title as said, and its year."""
    title = " ".join(title.split())
    match = _YEAR.search(title)
    year = int(match.group(1)) if match else None
    title = _ALIAS.sub("", title[: match.start()] if match else title).strip()
    title = re.sub(r"\s*\([^)]*\)$", "", title).strip() or title  # a foreign or alternative title in brackets
    article = _ARTICLE.match(title)
    return (f"{article.group(2)} {article.group(1)}".replace("' ", "'") if article else title), year


@dataclass(frozen=True)
class MovieLens:
    """The ratings as parallel arrays, each movie's title and year, and IMDb number → movie."""

    users: np.ndarray  # int32 user id per rating
    movies: np.ndarray  # int32 movie id per rating
    ratings: np.ndarray  # float32, 0.5 to 5.0
    titles: dict[int, tuple[str, int | None]]  # movie id → (title as said, year)
    imdb: dict[str, int]  # "0114709" (7 digits, no "tt") → movie id
    sha256: str  # of the zip: what a model fitted on it is keyed by


def movielens_path(root: str | Path | None = None) -> Path:
    return Path(root if root is not None else data_dir()) / ZIP


def movielens_fingerprint(root: str | Path | None = None) -> str | None:
    """The zip's sha256 (None when it is not there): what models and caches built from it are keyed by."""
    path = movielens_path(root)
    if not path.is_file():
        return None
    stat = path.stat()
    return _hash(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _hash(path: str, size: int, mtime: int) -> str:
    return sha256_file(path)


def _rows(archive: zipfile.ZipFile, name: str, columns: tuple[str, ...], path: Path):
    member = MEMBER.format(name)
    try:
        handle = io.TextIOWrapper(archive.open(member), encoding="utf-8", newline="")
    except KeyError:
        raise DataError(f"the zip has no {member}", path=path, hint="fetch the official ml-latest-small.zip") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(header[: len(columns)]) != columns:
            raise DataError(f"{member}: expected the columns {','.join(columns)}, found {header}", path=path)
        for line, row in enumerate(reader, start=2):
            if len(row) < len(columns):
                warn(f"{member}: skipped a row with {len(row)} fields", path, line)
                continue
            yield line, row


def load_movielens(root: str | Path | None = None) -> MovieLens:
    """Read ``movielens/ml-latest-small.zip`` under the data folder (``llmkb data fetch`` puts it there)."""
    path = require_file(movielens_path(root), hint="run `llmkb data fetch` (it fetches MovieLens too)")
    users, movies, ratings = [], [], []
    try:
        with zipfile.ZipFile(path) as archive:
            for line, row in _rows(archive, "ratings", ("userId", "movieId", "rating"), path):
                try:
                    user, movie, rating = int(row[0]), int(row[1]), float(row[2])
                except ValueError:
                    warn(f"ratings.csv: skipped a row that is not user,movie,rating: {row[:3]}", path, line)
                    continue
                users.append(user), movies.append(movie), ratings.append(rating)
            titles = {int(row[0]): split_movielens_title(row[1])
                      for _, row in _rows(archive, "movies", ("movieId", "title"), path) if row[0].isdigit()}
            imdb = {row[1].strip().zfill(7): int(row[0])
                    for _, row in _rows(archive, "links", ("movieId", "imdbId"), path)
                    if row[0].isdigit() and row[1].strip().isdigit()}
    except zipfile.BadZipFile as error:
        raise DataError(f"not a zip file ({error})", path=path,
                        hint="fetch it again with `llmkb data fetch`") from error
    if not ratings:
        raise DataError("ratings.csv holds no rating", path=path, hint="fetch the official ml-latest-small.zip")
    return MovieLens(np.array(users, np.int32), np.array(movies, np.int32), np.array(ratings, np.float32),
                     titles, imdb, movielens_fingerprint(root) or sha256_file(path))

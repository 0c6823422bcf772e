"""ReDial (Li et al., NeurIPS 2018) in its raw official format, plus the files that link it to DBpedia.

Turns follow PROTOCOLS.md: consecutive messages of one sender are merged (texts joined with a space);
a movie is mentioned in a turn when ``@<movieId>`` occurs in it for a key of ``movieMentions``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from llmkb.data.io import read_json, read_jsonl, read_plain_pickle, require_file, warn
from llmkb.data.records import RECOMMENDER, SEEKER, CatalogItem, Dialogue, Turn
from llmkb.errors import DataError

MOVIE_MARK = re.compile(r"@(\d+)")
TITLE_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


def split_title_year(name: str) -> tuple[str, int | None]:
    """``"Police Academy  (1984)"`` → ``("Police Academy", 1984)``; whitespace is normalised."""
    name = " ".join(name.split())
    match = TITLE_YEAR.match(name)
    return (match.group(1).strip(), int(match.group(2))) if match else (name, None)


def load_catalog(path: str | Path) -> dict[str, CatalogItem]:
    """``movies_with_mentions.csv`` → catalogue id → item (all 6,924 movies of the official release)."""
    path = require_file(path)
    catalog: dict[str, CatalogItem] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"movieId", "movieName"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"missing columns {sorted(missing)}", path=path, line=1)
        for row in reader:
            movie_id = (row.get("movieId") or "").strip()
            if not movie_id.isdigit():
                warn(f"skipped a row with movieId {movie_id!r}", path, reader.line_num)
                continue
            # nbMentions is not kept: it counts test dialogues too, so ranking by it would leak
            catalog[movie_id] = CatalogItem(movie_id, *split_title_year(row.get("movieName") or ""))
    return catalog


def _as_dict(value, field: str, path: Path, line: int) -> dict:
    if isinstance(value, dict):
        return value
    if value not in (None, [], ""):
        warn(f"'{field}' is a {type(value).__name__}, not a dict; treated as empty", path, line)
    return {}


def parse_dialogue(record: dict, catalog: dict[str, CatalogItem], path: Path, line: int) -> Dialogue | None:
    """One raw ReDial record → a :class:`Dialogue` with merged turns, titles substituted for ``@ids``."""
    try:
        conversation_id = str(record["conversationId"])
        messages = record["messages"]
        recommender = record["respondentWorkerId"]
    except KeyError as exc:
        warn(f"skipped a dialogue without {exc.args[0]!r}", path, line)
        return None
    if not isinstance(messages, list):
        warn(f"skipped dialogue {conversation_id}: 'messages' is not a list", path, line)
        return None
    mentions = _as_dict(record.get("movieMentions"), "movieMentions", path, line)

    def title(movie_id: str) -> str:
        if movie_id in catalog:
            return catalog[movie_id].display
        name = mentions.get(movie_id)
        return " ".join(name.split()) if isinstance(name, str) and name.strip() else f"@{movie_id}"

    merged: list[tuple[object, list[str]]] = []  # (sender, texts)
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            warn(f"skipped a malformed message in dialogue {conversation_id}", path, line)
            continue
        sender = message.get("senderWorkerId")
        if merged and merged[-1][0] == sender:
            merged[-1][1].append(message["text"])
        else:
            merged.append((sender, [message["text"]]))

    turns = []
    for sender, texts in merged:
        raw = " ".join(texts)
        ids = [m for m in MOVIE_MARK.findall(raw) if m in mentions]
        text = MOVIE_MARK.sub(lambda m: title(m.group(1)) if m.group(1) in mentions or m.group(1) in catalog
                              else m.group(0), raw)
        role = RECOMMENDER if sender == recommender else SEEKER
        turns.append(Turn(role, text, tuple(dict.fromkeys(ids))))
    return Dialogue(conversation_id, tuple(turns), source=str(path), questionnaires={
        who: questionnaire(record.get(f"{who}Questions"), f"{who}Questions", path, line)
        for who in ("initiator", "respondent")})


def questionnaire(value, field: str, path: Path, line: int) -> dict[str, dict[str, int]]:
    """A ``*Questions`` object → movie id → {"liked", "seen"} as ints (malformed entries are left out, with a
    warning; an empty list, as some records have, means no answers)."""
    answers = {}
    for movie_id, answer in _as_dict(value, field, path, line).items():
        try:
            answers[str(movie_id)] = {key: int(answer[key]) for key in ("liked", "seen")}
        except (KeyError, TypeError, ValueError):
            warn(f"skipped a malformed {field} answer for movie {movie_id}", path, line)
    return answers


def load_dialogues(paths: Iterable[str | Path], catalog: dict[str, CatalogItem]) -> list[Dialogue]:
    """Dialogues of one or more raw files, de-duplicated by conversationId (first file wins), in file order."""
    dialogues: dict[str, Dialogue] = {}
    for path in map(Path, paths):
        for line, record in read_jsonl(path, expect=dict):
            dialogue = parse_dialogue(record, catalog, path, line)
            if dialogue is not None:
                dialogues.setdefault(dialogue.dialogue_id, dialogue)
    return list(dialogues.values())


def load_movie_links(path: str | Path) -> dict[str, str]:
    """``kgsf/id2entity.pkl`` (a plain-data pickle) → ReDial movie id → DBpedia URI, linked movies only."""
    links = read_plain_pickle(path)
    if not isinstance(links, dict):
        raise DataError(f"expected a dict of movieId → URI, found {type(links).__name__}", path=path)
    return {str(movie): uri for movie, uri in links.items() if isinstance(uri, str) and uri}


METADATA_FIELDS = ("genre", "plot", "director", "writer", "star", "imdb_id")


def load_metadata(path: str | Path) -> dict[str, dict]:
    """``cfcrs/id2info.json`` → movie id → {genre, plot, director, writer, star, imdb_id} (its known defect is repaired)."""
    path = Path(path)
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise DataError(f"expected a JSON object of movieId → info, found {type(raw).__name__}", path=path)
    metadata = {}
    for movie_id, info in raw.items():
        if not isinstance(info, dict):
            warn(f"skipped movie {movie_id}: its info is a {type(info).__name__}, not a dict", path)
            continue
        metadata[str(movie_id)] = {key: info[key] for key in METADATA_FIELDS if info.get(key)}
    return metadata

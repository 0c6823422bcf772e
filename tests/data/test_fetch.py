import urllib.request

import pytest

from llmkb.data import fetch as fetch_module
from llmkb.data.fetch import SourceFile, fetch, source_files
from llmkb.data.io import sha256_file
from llmkb.errors import DataError


@pytest.fixture()
def tiny_sources(tiny_root, monkeypatch):
    rels = ["redial/raw/test_data.jsonl", "redial/raw/movies_with_mentions.csv"]
    entries = [SourceFile(r, f"https://example.invalid/{r}", sha256_file(tiny_root / r), (tiny_root / r).stat().st_size)
               for r in rels]
    monkeypatch.setattr(fetch_module, "source_files", lambda: entries)
    return entries


def test_sources_manifest_pins_every_file_with_a_hash():
    entries = source_files()
    assert len(entries) == 20 and all(len(e.sha256) == 64 and e.url.startswith("https://") for e in entries)


def test_fetch_from_mirror_is_verified_and_idempotent(tiny_root, tiny_sources, tmp_path):
    status = fetch(tmp_path / "data", source=tiny_root, progress=False)
    assert set(status.values()) == {"copied"}
    assert fetch(tmp_path / "data", source=tiny_root, progress=False) == {e.path: "kept" for e in tiny_sources}
    (tmp_path / "data" / tiny_sources[0].path).write_text("tampered")
    assert fetch(tmp_path / "data", source=tiny_root, progress=False)[tiny_sources[0].path] == "copied"


def test_mirror_with_a_different_file_is_refused(tiny_root, tiny_sources, tmp_path):
    import shutil

    mirror = shutil.copytree(tiny_root, tmp_path / "mirror")
    (mirror / tiny_sources[1].path).write_text("movieId,movieName\n")
    with pytest.raises(DataError, match="sha256 mismatch"):
        fetch(tmp_path / "data", source=mirror, progress=False)
    assert not (tmp_path / "data" / tiny_sources[1].path).exists()  # nothing half-written is left


def test_offline_download_fails_naming_source(tiny_sources, tmp_path, monkeypatch):
    monkeypatch.delenv("LLMKB_DATA_SOURCE", raising=False)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError, match=r"--source DIR"):
        fetch(tmp_path / "data", progress=False)


def test_missing_mirror_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="the mirror folder does not exist"):
        fetch(tmp_path / "data", source=tmp_path / "nowhere", progress=False)

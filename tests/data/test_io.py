import io
import os
import pickle
from collections import defaultdict

import pytest

from llmkb.data.io import DataWarning, atomic_write_text, read_json, read_jsonl, read_plain_pickle
from llmkb.errors import DataError


def test_truncated_jsonl_line_is_skipped_with_file_and_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"a": 1}\n{"a": 2, "b": [1, 2\n{"a": 3}\n')
    with pytest.warns(DataWarning, match=r"d\.jsonl:2: skipped a line that is not valid JSON"):
        rows = list(read_jsonl(path))
    assert [(line, row["a"]) for line, row in rows] == [(1, 1), (3, 3)]


def test_list_where_dict_expected_is_skipped_with_warning(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('[1, 2]\n{"ok": true}\n')
    with pytest.warns(DataWarning, match=r"d\.jsonl:1: skipped a list where a dict was expected"):
        assert [row for _, row in read_jsonl(path, expect=dict)] == [{"ok": True}]


def test_file_with_no_valid_line_is_an_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n")
    with pytest.warns(DataWarning), pytest.raises(DataError, match="no valid line"):
        list(read_jsonl(path))


def test_missing_file_names_the_file_and_what_to_do(tmp_path):
    with pytest.raises(DataError, match=r"nope\.jsonl: file not found \(run `llmkb data fetch"):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_id2info_defect_is_repaired_with_a_warning(tmp_path):
    path = tmp_path / "id2info.json"
    path.write_text('{"1": {"name": "A"}f, "2": {"name": "B"}}')
    with pytest.warns(DataWarning, match=r"id2info\.json:1: repaired a known defect"):
        assert read_json(path) == {"1": {"name": "A"}, "2": {"name": "B"}}


def test_unknown_json_defect_is_an_error_with_line(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{\n"1": {"name": "A"}f, "2": 3}')
    with pytest.raises(DataError, match=r"other\.json:2: not valid JSON"):
        read_json(path)


def test_plain_pickle_with_defaultdict_loads(tmp_path):
    path = tmp_path / "ok.pkl"
    data = defaultdict(list, {1: [(0, 2)], 2: []})
    path.write_bytes(pickle.dumps(data))
    assert read_plain_pickle(path) == data


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"movie": _Exploit()}))
    with pytest.raises(DataError, match=r"evil\.pkl: refused or failed to unpickle: refused to load posix\.system"):
        read_plain_pickle(path)


def test_atomic_write_leaves_no_temp_file_and_keeps_old_on_failure(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "first")
    with pytest.raises(TypeError):
        atomic_write_text(path, io.StringIO())  # not a str: the write fails mid-way
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]

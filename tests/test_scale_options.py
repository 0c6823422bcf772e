"""Without the extra installed, --workers says what to install, and nothing else needs Ray."""

import sys

import pytest

from llmkb.cli import main
from llmkb.errors import LLMKBError
from llmkb.scale import require_ray


def test_require_ray_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives: ImportError
    with pytest.raises(LLMKBError, match=r"pip install '\.\[scale\]'"):
        require_ray()


def test_workers_flag_without_ray_fails_with_the_install_command(monkeypatch, tiny_root, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    code = main(["--data-dir", str(tiny_root), "evaluate", "--dataset", "redial", "--system", "popularity",
                 "--workers", "2"])
    assert code == 2 and "pip install '.[scale]'" in capsys.readouterr().err


def test_address_needs_workers(tiny_root, capsys):
    code = main(["--data-dir", str(tiny_root), "evaluate", "--dataset", "redial", "--system", "popularity",
                 "--address", "auto"])
    assert code == 2 and "--address needs --workers" in capsys.readouterr().err

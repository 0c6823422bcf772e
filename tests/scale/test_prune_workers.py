"""``llmkb rram prune --workers 2`` on a tiny LLM: the same results as one process, each method on a worker (on the
package's cluster: a process already connected to Ray keeps its connection)."""

import json

import pytest

from llmkb.errors import LLMKBError
from test_prune import parser
from tiny_models import write_tiny_llm

FLAGS = ["--methods", "reconstruct,quantize", "--window", "16", "--eval-windows", "4", "--split", "test",
         "--steps", "2", "--calibrate", "1", "--skip-float", "--key-bits", "4"]


def prune(tiny_root, out, llm, *extra) -> dict:
    args = parser().parse_args(["--data-dir", str(tiny_root), "rram", "prune", "--out", str(out), "--model", str(llm),
                                *FLAGS, *extra])
    args.run(args)
    return json.loads((out / "report.json").read_text())


def test_workers_give_one_process_results(cluster, tiny_root, tmp_path):
    llm = write_tiny_llm(tmp_path / "llm")
    one = prune(tiny_root, tmp_path / "one", llm)
    two = prune(tiny_root, tmp_path / "two", llm, "--workers", "2")
    assert [r["name"] for r in two["results"]] == ["dense", "reconstruct-4b", "quantize-4b"]
    for a, b in zip(one["results"], two["results"]):
        assert (a["accuracy"], a["cost"], a["extra"]["units"]) == (b["accuracy"], b["cost"], b["extra"]["units"])
    with pytest.raises(LLMKBError, match="--budget applies to one process"):
        prune(tiny_root, tmp_path / "three", llm, "--workers", "2", "--budget", "1")

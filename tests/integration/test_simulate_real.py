"""Interactive evaluation on the real test splits with the packaged LLM: no scored user turn names its target (checked
here independently of the guard's own verdict), the kb user is deterministic, and the llm user's phrasings stay
faithful to the attribute they reveal."""

import json
import re
import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.evaluation import make_system
from llmkb.evaluation.interactive import Simulation, simulate, simulation_paths
from llmkb.evaluation.simulator import ACCEPT, KBSimulator, LLMSimulator
from llmkb.generation import load_llm
from llmkb.postprocess.normalize import normalize_title

pytestmark = pytest.mark.integration


def _simulate(dataset, simulator, tmp_path, targets, setting="free-chat"):
    transcripts, report = simulation_paths(dataset.name, "popularity", simulator.name, setting,
                                           out=tmp_path / f"{simulator.name}-{setting}.transcripts.jsonl")
    run = Simulation(dataset.name, "popularity", simulator.name, setting, targets=targets, seed=0)
    result = simulate(dataset, make_system("popularity", dataset), simulator, run, transcripts, report, progress=False)
    return result, [json.loads(line) for line in transcripts.read_text().splitlines()]


def _user_turns(row):
    return [t["text"] for t in row["turns"] if t["role"] == "seeker" and t["text"] != ACCEPT]


@pytest.mark.parametrize("name", ["redial", "inspired"])
def test_kb_user_on_real_targets(mirror, tmp_path, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset(name, mirror)
        result, rows = _simulate(dataset, KBSimulator(0), tmp_path, 300)
        _, again = _simulate(dataset, KBSimulator(0), tmp_path / "again", 300)
    assert rows == again
    assert result["metrics"]["targets"] == min(300, len(dataset.samples("test", "std")))
    assert result["metrics"]["leaks"]["scored"] == 0 and result["metrics"]["leaks"]["gave_up"] == 0
    for row in rows:
        title = normalize_title(row["target_title"].rsplit(" (", 1)[0])
        assert not any(f" {title} " in f" {normalize_title(text)} " for text in _user_turns(row)), row["sample_id"]
    assert sum(bool(row["attributes"]) for row in rows) >= 0.95 * len(rows)  # the KB describes nearly every target


def test_llm_user_on_real_targets(mirror, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset("inspired", mirror)
        model, tokenizer = load_llm()
        result, rows = _simulate(dataset, LLMSimulator(model, tokenizer, 0, progress=False), tmp_path, 8, "cold-start")
    assert result["metrics"]["leaks"]["scored"] == 0
    revealed = [r for row in rows for r in row["rounds"] if r.get("source") in ("llm", "template")]
    assert sum(r["source"] == "llm" for r in revealed) >= 0.5 * len(revealed)  # most pass the checks (8 of 12 here)
    for row in rows:
        for r, attribute in zip(row["rounds"], row["attributes"]):
            if r.get("source") == "llm":  # the phrasing states the value it reveals
                value = attribute.split(" ", 1)[1]
                assert normalize_title(value) in normalize_title(r["user"]), (value, r["user"])


@pytest.mark.parametrize("name", ["redial", "inspired"])
def test_description_user_on_real_targets_names_nothing_and_copies_no_rare_plot_word(mirror, tmp_path, name):
    """Issue 32: the user who only retells the plot never says the title, a rare word of the plot, or a KB name."""
    from llmkb.evaluation.simulator import RARE_PLOT, Vocabulary
    from llmkb.kb import build_kb, load_kb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load_dataset(name, mirror)
        result, rows = _simulate(dataset, KBSimulator(0), tmp_path, 300, "descriptions")
    documents = {doc.item_id: doc for doc in load_kb(build_kb(dataset)[0])}
    counts = Vocabulary.from_documents(documents.values()).plot_counts
    assert result["rounds"] == 5 and result["metrics"]["leaks"]["scored"] == 0 and result["eligible_samples"] >= 50
    for row in rows:
        doc = documents[row["target"]]
        title = normalize_title(row["target_title"].rsplit(" (", 1)[0])
        rare = {w for w in re.findall(r"\b[a-z]{4,}\b", doc.plot) if counts.get(w, 0) < RARE_PLOT}
        names = {w for fact in ("starring", "director") for value in doc.facts.get(fact, [])
                 for w in re.findall(r"[a-z]{4,}", value.lower()) if counts.get(w, 0) < RARE_PLOT}  # not English
        for text in _user_turns(row):
            said = set(re.findall(r"[a-z]+", text.lower()))
            assert f" {title} " not in f" {normalize_title(text)} " and not rare & said and not names & said, text
        assert all(turn["items"] == [] for turn in row["turns"] if turn["role"] == "seeker")

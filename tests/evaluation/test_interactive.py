"""Interactive evaluation on the dozen-movie world: the metrics by hand, no leak in what is scored, determinism,
resuming, and what the system is (not) shown."""

import json
import warnings

import pytest

from llmkb.data import load_dataset
from llmkb.evaluation import make_system
from llmkb.evaluation.interactive import Simulation, draw_targets, score, simulate, simulation_paths, wilson
from llmkb.evaluation.simulator import ACCEPT, KBSimulator, LeakGuard
from llmkb.data.records import SEEKER


@pytest.fixture()
def redial(tiny_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset("redial", tiny_root)


def test_score_by_hand():
    rows = [{"rounds": [{"rank": 12}, {"rank": 6}, {"rank": 1}]},  # success@10 in round 2, accepted in round 3
            {"rounds": [{"rank": 3}]},  # accepted at once
            {"rounds": [{"rank": None}, {"rank": 40, "user": "x", "caught": 2, "source": "template"}]},
            {"rounds": [{"rank": 2}], "gave_up": False, "opener_source": "llm"}]
    m = score(rows, rounds=5)
    assert m["targets"] == 4
    assert [m[f"success@{k}"]["rate"] for k in (1, 5, 10, 50)] == [0.25, 0.75, 0.75, 1.0]
    assert m["curve"]["success@10"] == [0.5, 0.75, 0.75, 0.75, 0.75]
    assert m["curve"]["success@1"] == [0.0, 0.0, 0.25, 0.25, 0.25]
    assert m["mean_rounds"]["mean"] == pytest.approx((3 + 1 + 1) / 3) and m["mean_rounds"]["over"] == 3
    assert m["leaks"] == {"scored": 0, "caught": 2, "unfaithful": 0, "templated": 1, "user_turns": 1, "gave_up": 0,
                          "openers": {"llm": 1}}
    assert score(rows, rounds=1)["success@5"]["rate"] == 0.5  # only round 1 counts
    low, high = wilson(3, 4)
    assert (round(low, 4), round(high, 4)) == (0.3006, 0.9544)
    assert (m["success@5"]["low"], m["success@5"]["high"]) == (low, high)


def test_draws_are_seeded_and_nested():
    samples = list(range(20))
    assert draw_targets(samples, 5, 3) == draw_targets(samples, 5, 3) != draw_targets(samples, 5, 4)
    assert set(draw_targets(samples, 5, 3)) <= set(draw_targets(samples, 8, 3))
    assert draw_targets(samples, 50, 3) == samples


class Recording:
    """A system that ranks by popularity and keeps what it was shown."""

    def __init__(self, dataset):
        self.inner, self.seen = make_system("popularity", dataset), []

    def rank(self, samples):
        self.seen.extend(samples)
        return self.inner.rank(samples)


def _run(redial, tmp_path, setting="cold-start", seed=0, system=None, name="t"):
    system = system or Recording(redial)
    transcripts, report = simulation_paths("redial", "popularity", "kb", setting, out=tmp_path / f"{name}.transcripts.jsonl")
    run = Simulation("redial", "popularity", "kb", setting, rounds=5, shown=2, targets=10, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
        result = simulate(redial, system, KBSimulator(seed), run, transcripts, report, progress=False)
    rows = [json.loads(line) for line in transcripts.read_text().splitlines()]
    return result, rows, system


def test_transcripts_never_name_the_target_and_the_system_never_sees_it(redial, tmp_path):
    result, rows, system = _run(redial, tmp_path)
    assert [r["sample_id"] for r in rows] == ["900:1", "900:3", "901:2"]  # every test std sample (fewer than 10)
    assert result["metrics"]["leaks"]["scored"] == 0 and result["metrics"]["targets"] == 3
    for row in rows:
        guard = LeakGuard(row["target_title"], frozenset())
        said = [t["text"] for t in row["turns"] if t["role"] == SEEKER]
        assert said and not any(guard.leaks(text) for text in said if text != ACCEPT)
        assert all(row["target_title"].split(" (")[0].lower() not in text.lower() for text in said)
    assert all(sample.gold == () for sample in system.seen)
    assert result["rounds"] == 5 and result["shown"] == 2 and "transcripts" in result


def test_turned_down_movies_are_not_shown_again(redial, tmp_path):
    _, rows, _ = _run(redial, tmp_path)
    for row in rows:
        shown = [tuple(r["ranked"][:2]) for r in row["rounds"]]
        assert len({i for pair in shown for i in pair}) == 2 * len(shown)  # each round shows two new movies
        assert all(len(r["ranked"]) == len(redial.catalog) - 2 * i for i, r in enumerate(row["rounds"]))


def test_same_seed_same_transcripts_and_free_chat_starts_from_the_real_turns(redial, tmp_path):
    _, first, _ = _run(redial, tmp_path, name="a")
    _, again, _ = _run(redial, tmp_path, name="b")
    assert first == again
    _, free, system = _run(redial, tmp_path, setting="free-chat", name="c")
    context = {s.sample_id: s.context for s in redial.samples("test", "std")}
    first_seen = {s.sample_id.split("#")[0]: s.context for s in reversed(system.seen)}
    assert first_seen == context and [r["context_turns"] for r in free] == [len(context[r["sample_id"]]) for r in free]


def test_an_interrupted_run_resumes_and_another_runs_results_are_not_reused(redial, tmp_path):
    result, rows, _ = _run(redial, tmp_path)
    partial = tmp_path / "t.transcripts.jsonl.partial"
    partial.write_text("".join(json.dumps({**r, "sample_id": r["sample_id"]}) + "\n" for r in rows[:2])
                       + '{"sample_id": "torn"')  # two finished conversations, then an interruption
    report, resumed, system = _run(redial, tmp_path)
    assert resumed == rows and {s.sample_id.split("#")[0] for s in system.seen} == {"901:2"}
    assert report["resumed"] == 2 and report["metrics"] == result["metrics"]
    assert not partial.exists()
    partial.write_text("".join(json.dumps(r) + "\n" for r in rows))  # written by the run with seed 0
    _, other, system = _run(redial, tmp_path, seed=1)
    assert {s.sample_id.split("#")[0] for s in system.seen} == {r["sample_id"] for r in rows}  # all run again


def test_a_description_user_opens_with_the_plot_and_never_names_a_movie(redial, tmp_path, monkeypatch):
    """The tiny world's plots ("Plot of Heat.") are all rare words; with every word common, each is told as "plot of"."""
    from llmkb.errors import LLMKBError
    from llmkb.evaluation import simulator

    with pytest.raises(LLMKBError, match="descriptions setting has no one to simulate"):
        _run(redial, tmp_path, setting="descriptions", name="none")
    monkeypatch.setattr(simulator, "RARE_PLOT", 0)
    monkeypatch.setattr(simulator, "DESCRIBED_WORDS", 2)
    result, rows, system = _run(redial, tmp_path, setting="descriptions", name="d")
    n = result["eligible_samples"]
    assert n == len(rows) >= 2 and result["metrics"]["leaks"]["openers"] == {"paraphrase": n}
    for row in rows:
        said = [t["text"] for t in row["turns"] if t["role"] == SEEKER and t["text"] != ACCEPT]
        assert "plot of" in said[0] and row["attributes"] == ["description plot of"]
        assert all(t["items"] == [] for t in row["turns"] if t["role"] == SEEKER)  # turned down without naming
        assert all(text.startswith("None of those") for text in said[1:])
    assert all(sample.gold == () for sample in system.seen)

"""The load test without a server: fake sessions stand in for the demo (a few ms a turn, failing where told)."""

import argparse
import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from llmkb.app import load_test
from llmkb.machine import cpu_name

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fake_sessions(fail_at: set[tuple[int, int]] = frozenset(), seconds: float = 0.003, refuse: set[int] = frozenset()):
    """An OpenSession whose turns sleep ``seconds`` and raise at the (session, turn) pairs of ``fail_at``."""

    def open_session(index: int):
        if index in refuse:
            raise ConnectionError("server down")

        def turn(t: int) -> None:
            time.sleep(seconds)
            if (index, t) in fail_at:
                raise RuntimeError(f"boom at {index}.{t}")

        return turn

    return open_session


def level(sessions: int, p50: float | None = 1.0, errors: int = 0) -> dict:
    latency = None if p50 is None else {"p50": p50, "p95": 2 * p50, "mean": p50, "max": 3 * p50}
    return {"sessions": sessions, "turns": 5 * sessions, "errors": errors, "wall_seconds": 10.0 + sessions,
            "turns_per_minute": 30.0 * sessions, "latency_seconds": latency}


@pytest.mark.parametrize("text, levels", [("1,2,5,10,20", [1, 2, 5, 10, 20]), ("3", [3]), (" 4, 2 ", [4, 2])])
def test_concurrency_parses_comma_separated_levels_in_order(text, levels):
    assert load_test.concurrency_levels(text) == levels
    assert load_test.parser().parse_args(["--concurrency", text]).concurrency == levels


@pytest.mark.parametrize("text", ["", "0", "1,,2", "1,-2", "two", "1.5"])
def test_concurrency_refuses_what_is_not_positive_whole_numbers(text, capsys):
    with pytest.raises(argparse.ArgumentTypeError):
        load_test.concurrency_levels(text)
    with pytest.raises(SystemExit) as exit_:
        load_test.main(["--concurrency", text])
    assert exit_.value.code == 2 and "positive whole numbers" in capsys.readouterr().err


def test_summarize_counts_every_turn_but_times_only_the_good_ones():
    records = [{"session": 0, "turn": t, "seconds": float(s), "error": None} for t, s in enumerate(range(1, 21))]
    records.append({"session": 1, "turn": 0, "seconds": 100.0, "error": "RuntimeError: boom"})
    summary = load_test.summarize(3, 7, records, wall=42.0)
    assert (summary["sessions"], summary["turns_per_session"], summary["turns"], summary["errors"]) == (3, 7, 21, 1)
    assert summary["wall_seconds"] == 42.0 and summary["turns_per_minute"] == pytest.approx(30.0)
    assert summary["latency_seconds"] == {"p50": 11.0, "p95": 19.0, "mean": 10.5, "max": 20.0}  # 100 s left out
    assert summary["error_samples"] == ["RuntimeError: boom"] and summary["records"] == records


def test_summarize_with_no_good_turn_has_no_latency():
    summary = load_test.summarize(1, 2, [{"seconds": 0.1, "error": "x"}] * 2, wall=1.0)
    assert summary["latency_seconds"] is None and summary["errors"] == 2 and summary["error_samples"] == ["x", "x"]


def test_a_level_runs_its_sessions_concurrently_and_records_the_failing_turn():
    started = time.perf_counter()
    summary = load_test.run_level(4, 3, fake_sessions(fail_at={(2, 1)}, seconds=0.02))
    wall = time.perf_counter() - started
    assert summary["turns"] == 12 and summary["errors"] == 1 and summary["sessions"] == 4
    assert summary["error_samples"] == ["RuntimeError: boom at 2.1"]
    failed = [r for r in summary["records"] if r["error"]]
    assert [(r["session"], r["turn"]) for r in failed] == [(2, 1)]
    assert sorted((r["session"], r["turn"]) for r in summary["records"]) == [(s, t) for s in range(4) for t in range(3)]
    assert summary["latency_seconds"]["p50"] >= 0.02 and all(r["seconds"] >= 0.02 for r in summary["records"])
    assert 0.06 <= summary["wall_seconds"] < 0.24 and wall >= summary["wall_seconds"]  # 4 sessions side by side
    assert summary["turns_per_minute"] == pytest.approx(60 * 12 / summary["wall_seconds"])


def test_a_session_that_cannot_connect_fails_its_turns_and_the_others_go_on():
    summary = load_test.run_level(3, 2, fake_sessions(refuse={1}))
    assert summary["turns"] == 6 and summary["errors"] == 2
    assert summary["error_samples"] == ["connect: ConnectionError: server down"] * 2


def test_markdown_table_has_a_row_per_level():
    lines = load_test.markdown_table([level(1, 0.5), level(20, None, errors=100)]).splitlines()
    assert lines[0] == "| concurrency | turns | errors | wall s | turns/min | p50 s | p95 s |"
    assert lines[1].count("|") == 8 and set(lines[1]) <= set("|-:")
    assert lines[2:] == ["| 1 | 5 | 0 | 11.0 | 30.0 | 0.50 | 1.00 |", "| 20 | 100 | 100 | 30.0 | 600.0 | – | – |"]


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, (path, len(data))
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.")] == []  # no temp file left


def test_plot_is_written_from_a_fake_report(tmp_path):
    report = {"date": "2030-01-02T03:04:05+00:00", "cpu": "Fake CPU @ 1 GHz",
              "levels": [level(1), level(2, 1.5), level(5, 3.0), level(10, None, errors=50)]}
    path = load_test.plot_sweep(report, tmp_path / "plots" / "load.png")
    assert path == tmp_path / "plots" / "load.png"
    assert_png(path)


def test_replot_prints_the_table_and_plots_next_to_the_report(tmp_path, capsys):
    report_path = tmp_path / "sweep.json"
    report_path.write_text(json.dumps({"date": "2030-01-02", "cpu": "Fake", "levels": [level(1), level(2, 1.5)]}))
    assert load_test.main(["--replot", str(report_path)]) == 0
    out = capsys.readouterr().out
    assert load_test.markdown_table([level(1), level(2, 1.5)]) in out and str(tmp_path / "sweep.png") in out
    assert_png(tmp_path / "sweep.png")
    assert load_test.main(["--replot", str(report_path), "--plot", str(tmp_path / "docs" / "load.png")]) == 0
    assert_png(tmp_path / "docs" / "load.png")


def test_plot_needs_a_sweep_or_a_report(capsys):
    with pytest.raises(SystemExit) as exit_:
        load_test.main(["--plot", "x.png"])
    assert exit_.value.code == 2 and "--plot goes with --concurrency or --replot" in capsys.readouterr().err


def test_a_sweep_runs_each_level_writes_a_report_and_a_plot_and_fails_on_a_failed_turn(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path))
    opened = []

    def demo_sessions(url, dataset, backbone):
        opened.append((url, dataset, backbone))
        return fake_sessions(fail_at={(1, 1)})

    monkeypatch.setattr(load_test, "demo_sessions", demo_sessions)
    code = load_test.main(["--url", "http://127.0.0.1:7862/", "--concurrency", "1,3,2", "--turns", "2"])
    out = capsys.readouterr().out
    assert code == 1 and opened == [("http://127.0.0.1:7862/", "redial", "dense")]
    [path] = (tmp_path / "load_test").glob("sweep-*.json")
    report = json.loads(path.read_text())
    assert report["url"] == "http://127.0.0.1:7862/" and report["cpu"] == cpu_name()
    assert "--concurrency 1,3,2" in report["command"] and datetime.fromisoformat(report["date"]).tzinfo
    assert [(lv["sessions"], lv["turns"], lv["errors"]) for lv in report["levels"]] == [(1, 2, 0), (3, 6, 1), (2, 4, 1)]
    assert all(lv["latency_seconds"]["p95"] >= lv["latency_seconds"]["p50"] > 0 for lv in report["levels"])
    assert load_test.markdown_table(report["levels"]) in out
    assert f"report: {path}" in out and f"plot: {path.with_suffix('.png')}" in out
    assert_png(path.with_suffix(".png"))


def test_a_sweep_with_no_failure_exits_0_and_writes_where_told(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(load_test, "demo_sessions", lambda *_: fake_sessions())
    out, plot = tmp_path / "r" / "sweep.json", tmp_path / "p" / "load.png"
    assert load_test.main(["--concurrency", "2", "--turns", "1", "--out", str(out), "--plot", str(plot)]) == 0
    assert [lv["sessions"] for lv in json.loads(out.read_text())["levels"]] == [2]
    assert_png(plot)
    assert not out.with_suffix(".png").exists()


def test_without_concurrency_the_single_level_report_is_as_before(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(load_test, "demo_sessions", lambda *_: fake_sessions(fail_at={(0, 0)}))
    out = tmp_path / "single.json"
    assert load_test.main(["--sessions", "3", "--turns", "2", "--out", str(out)]) == 1
    report = json.loads(out.read_text())
    assert {"date", "command", "url", "sessions", "turns_per_session", "dataset", "backbone", "turns", "errors",
            "wall_seconds", "turns_per_minute", "latency_seconds", "error_samples", "records"} <= set(report)
    assert (report["sessions"], report["turns_per_session"], report["turns"], report["errors"]) == (3, 2, 6, 1)
    stdout = capsys.readouterr().out
    assert stdout.startswith("6 turns (3 sessions × 2), 1 errors, ") and f"report: {out}" in stdout
    assert "levels" not in report and not list(tmp_path.glob("*.png"))



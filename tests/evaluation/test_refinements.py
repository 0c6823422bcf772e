import json

from llmkb.data import load_dataset
from llmkb.evaluation.refinements import REFINEMENTS, generate_cases, holds, rescore
from llmkb.kb import FactIndex, KBDocument, build_kb, load_kb

FACTS = FactIndex.from_documents([KBDocument("1", "Heat", 1995, {"genre": ["Crime film"]}),
                                  KBDocument("2", "Fargo", 1996, {"genre": ["crime", "comedy"]}),
                                  KBDocument("3", "Alien", 1979, {"genre": ["horror"]}),
                                  KBDocument("4", "Yearless", None, {"genre": ["comedy"]})])


def test_a_refinement_holds_against_the_cards_shown():
    shown = ["1", "2"]
    assert [holds(FACTS, "newer", shown, i) for i in "1234"] == [False, False, False, False]
    assert [holds(FACTS, "older", shown, i) for i in "1234"] == [False, False, True, False]  # no year: not older
    assert [holds(FACTS, "funnier", shown, i) for i in "1234"] == [False, True, False, True]
    assert [holds(FACTS, "scarier", shown, i) for i in "1234"] == [False, False, True, False]
    assert [holds(FACTS, "not-first", shown, i) for i in "1234"] == [False, True, True, True]


def test_cases_are_seeded_and_written_from_the_kb():
    titles = {"1": "Heat (1995)", "2": "Fargo (1996)", "3": "Alien (1979)"}
    cases = generate_cases(FACTS, titles, ["2", "1", "3"], per_kind=4, seed=0)
    assert cases == generate_cases(FACTS, titles, ["2", "1", "3"], per_kind=4, seed=0)
    assert [c.kind for c in cases] == [kind for kind in REFINEMENTS for _ in range(4)]
    for case in cases:
        assert case.refinement in REFINEMENTS[case.kind]
        if case.genre:
            assert case.genre in case.opening and case.genre in {"crime", "comedy", "horror"}
        else:
            assert any(title in case.opening for title in titles.values())
    assert not any(c.genre == "comedy" for c in cases if c.kind == "funnier")  # "funnier" than comedy: no case


def test_the_command_writes_a_report_that_rescores_to_its_numbers(tiny_cli, tiny_root, tmp_path, capsys):
    out = tmp_path / "refinements.json"
    assert tiny_cli("evaluate-refinements", "--per-kind", "2", "--out", str(out)) == 0
    assert "refined P@5" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["generation"]["kinds"] == {kind: 2 for kind in REFINEMENTS}
    facts = FactIndex.from_documents(load_kb(build_kb(load_dataset("redial", tiny_root))[0]))
    assert rescore(report["rows"], facts) == report["metrics"]
    for row in report["rows"]:
        assert not set(row["refined"]["top"]) & set(row["shown"])  # the cards shown never come back
        if row["kind"] == "newer" and row["refined"]["top"]:
            assert any("newer than" in read for read in row["read"])

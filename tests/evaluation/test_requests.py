import dataclasses
import json
import random

import pytest

from llmkb.data import load_dataset
from llmkb.errors import LLMKBError
from llmkb.evaluation.requests import (KINDS, VARIANTS, Request, fact_text, generate_requests, metrics, misspell,
                                       parse_fact, parse_variants, precision, rescore, satisfiable, satisfied, understood)
from llmkb.kb import FactIndex, KBDocument, Preference, build_kb, load_kb
from llmkb.kb.facts import PEOPLE, value_key

NINETIES = Preference("year", "1990s", years=(1990, 1999))
DOCS = [KBDocument(str(i), f"Movie {i}", year, {"genre": genres, "starring": stars})
        for i, year, genres, stars in [
            (1, 1995, ["Crime film"], ["Al Pacino"]), (2, 1996, ["crime", "comedy"], ["Frances McDormand"]),
            (3, 1990, ["crime"], ["Al Pacino"]), (4, 2001, ["crime"], []), (5, 1999, ["horror"], []),
            (6, 1993, ["crime"], ["Al Pacino"]), (7, 1998, ["crime"], [])]]
FACTS = FactIndex.from_documents(DOCS)


def test_scoring_counts_the_top_five_item_by_item():
    request = Request("genre+decade", "a crime movie from the 90s", (Preference("genre", "Crime film"), NINETIES))
    ranked = ["1", "4", "2", "5", "3", "6"]  # 1, 2, 3 hold both; 4 is from 2001, 5 is horror; 6 is sixth
    assert satisfied(FACTS, request, ranked) == [True, False, True, False, True]
    assert precision(satisfied(FACTS, request, ranked)) == pytest.approx(3 / 5)
    assert precision([True, True]) == pytest.approx(2 / 5)  # a short list: its missing places are misses
    assert satisfiable(FACTS, request, [d.item_id for d in DOCS]) == 5  # 1, 2, 3, 6, 7
    negated = Request("negated", "crime, not funny, no Pacino", (Preference("genre", "crime"),),
                      (Preference("genre", "comedy", -1), Preference("person", "Al Pacino", -1)))
    assert satisfied(FACTS, negated, ranked) == [False, True, False, False, False]
    rows = [{"kind": r.kind, "satisfiable": satisfiable(FACTS, r, FACTS.years),
             "systems": {"x": {"satisfied": satisfied(FACTS, r, ranked)}}} for r in (request, negated)]
    result = metrics(rows, "x")
    assert result["all"]["overall"]["precision@5"] == pytest.approx((0.6 + 0.2) / 2)
    assert result["all"]["groups"]["two-attribute"] == {"requests": 1, "precision@5": 0.6, "hit@5": 1.0,
                                                        "precision@5 95% CI": [0.6, 0.6]}
    assert result["satisfiable"]["overall"]["requests"] == 1  # the negation: only 4 and 7 satisfy it
    assert result["satisfiable"]["groups"]["negated"] == {"requests": 0}


def test_the_like_movie_never_counts():
    request = Request("like-but", "something like Movie 1 but from the 90s", (NINETIES,), like="1")
    assert satisfied(FACTS, request, ["1", "2"]) == [False, True]  # 1 is from the 90s, but it is the movie named
    assert satisfiable(FACTS, request, [d.item_id for d in DOCS]) == 5


def test_facts_round_trip_through_the_report():
    request = Request("negated", "x", (Preference("genre", "crime"), NINETIES), (Preference("person", "Al Pacino", -1),
                      Preference("year", "1993-1997", -1, years=(1993, 1997))), like="3")
    assert Request.from_json(json.loads(json.dumps(request.to_json()))) == request
    assert fact_text(NINETIES) == "year: 1990s"
    assert fact_text(Preference("year", "around 1995", years=(1993, 1997))) == "year: 1993-1997"  # the years kept
    with pytest.raises(LLMKBError, match="relation: value"):
        parse_fact("genre crime")
    with pytest.raises(LLMKBError, match="decade"):
        parse_fact("year: the nineties")


def test_understood_reads_the_meaning_not_the_words():
    request = Request("negated", "x", (Preference("genre", "crime"),), (Preference("person", "Al Pacino", -1),))
    assert understood(request, [Preference("genre", "Crime film"), Preference("starring", "Al Pacino", -1)], [])
    assert not understood(request, [Preference("genre", "crime"), Preference("starring", "Al Pacino")], [])
    like = Request("like-but", "x", (NINETIES,), like="1")
    assert not understood(like, [NINETIES], []) and understood(like, [NINETIES], ["1"])


def test_variants_parse():
    assert parse_variants("all") == list(VARIANTS)
    assert parse_variants("dense-only, full") == ["full", "dense-only"]
    with pytest.raises(LLMKBError, match="unknown variant"):
        parse_variants("full,bm25")

NO_COMPANY = {"studio", "negated-studio"}  # the tiny KB names no company, so it has no studio to ask for


def test_generation_is_seeded_and_every_fact_comes_from_the_kb(make_stages):
    stages = make_stages(use_llm=False)
    facts, documents, popularity = stages.facts, stages.documents, stages.dataset.popularity
    requests = generate_requests(facts, documents, popularity, per_type=3, seed=0, min_items=1)
    assert requests == generate_requests(facts, documents, popularity, per_type=3, seed=0, min_items=1)
    assert [r.text for r in requests] != [r.text for r in generate_requests(facts, documents, popularity, 3, seed=1,
                                                                              min_items=1)]
    assert {r.kind for r in requests} == set(KINDS) - NO_COMPANY
    assert all(sum(r.kind == k for r in requests) <= 3 for k in KINDS)
    decades = {year // 10 * 10 for year in facts.years.values()}
    for r in requests:
        assert r.text and r.wanted and all(p.polarity == 1 for p in r.wanted)
        assert all(p.polarity == -1 for p in r.unwanted) and r.kind.startswith("negated") == bool(r.unwanted)
        for p in [*r.wanted, *r.unwanted]:
            if p.relation == "year":
                assert p.years[0] in decades and p.years[1] == p.years[0] + 9 and p.value == f"{p.years[0]}s"
            elif p.relation == "person":
                assert facts.roles.get(value_key("person", p.value))
            else:
                assert p.relation in ("genre", "studio", "series", *PEOPLE)
                assert facts.names[(p.relation, value_key(p.relation, p.value))] == p.value  # the KB's own spelling
            assert facts.items_for(p)
        assert (r.kind == "like-but") == (r.like is not None)
        if r.like:
            assert r.like in documents and not any(facts.satisfies(r.like, p) for p in r.wanted)
            assert documents[r.like].title.lower() in r.text.lower()
        assert satisfiable(facts, r, documents) >= 1
    strict = generate_requests(facts, documents, popularity, per_type=3, seed=0)  # min_items 5: only the 90s qualify
    assert {"decade", "like-but"} <= {r.kind for r in strict}
    assert not {"director", "actor", "genre", "genre+actor", "genre+decade", "negated"} & {r.kind for r in strict}
    assert all(r.wanted == (NINETIES,) for r in strict if r.kind in ("decade", "like-but"))


def test_the_command_writes_a_report_that_rescores_to_its_numbers(tiny_cli, tiny_root, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert tiny_cli("evaluate-requests", "--per-type", "1", "--min-items", "1", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert list(report["variants"]) == list(VARIANTS)
    assert [line.split()[0] for line in printed.splitlines() if "satisfiable by" in line] == list(VARIANTS)
    assert report["generation"] == {"per_type": 1, "seed": 0, "min_items": 1, "noise": 0.0, "requests": len(report["rows"]),
                                    "kinds": {kind: 1 for kind in KINDS if kind not in NO_COMPANY}, "top": 5}
    assert report["data_files"] and report["setup"]["dataset"] == "redial"
    setups = report["variants"]
    assert setups["no-kb-signal"]["setup"]["weights"] == {**setups["full"]["setup"]["weights"], "kb_match": 0.0}
    assert setups["no-kb"]["setup"]["kb_candidates"] is setups["no-kb"]["setup"]["constraints"] is False
    documents = load_kb(build_kb(load_dataset("redial", tiny_root))[0])
    facts = FactIndex.from_documents(documents)
    assert rescore(report, facts) == {v: result["metrics"] for v, result in report["variants"].items()}
    for row in report["rows"]:
        request = Request.from_json(row)
        assert row["satisfiable"] == satisfiable(facts, request, [doc.item_id for doc in documents])
        for variant, system in row["systems"].items():
            assert len(system["top"]) == len(set(system["top"])) == 5
            assert request.like not in system["top"]  # the movie a request names is never recommended back


def test_noise_types_the_same_requests_in_lower_case_with_typos_in_names_and_titles(make_stages):
    stages = make_stages(use_llm=False)
    args = (stages.facts, stages.documents, stages.dataset.popularity)
    clean = generate_requests(*args, per_type=3, seed=0, min_items=1)
    noisy = generate_requests(*args, per_type=3, seed=0, min_items=1, noise=1.0)
    assert [dataclasses.replace(r, text="") for r in noisy] == [dataclasses.replace(r, text="") for r in clean]
    assert all(r.text == r.text.lower() for r in noisy)
    named = [(c.text.lower(), n.text) for c, n in zip(clean, noisy) if c.kind in ("director", "actor", "like-but")]
    assert named and all(c != n for c, n in named)  # every name or title of 4+ letters has a typo at noise 1
    assert noisy == generate_requests(*args, per_type=3, seed=0, min_items=1, noise=1.0)


def test_misspell_makes_one_typo_per_long_word_and_keeps_the_first_letter():
    rng = random.Random(0)
    for _ in range(200):
        typed = misspell("Sigourney Weaver and Al", rng)
        words = typed.split()
        assert words[2:] == ["and", "Al"] and words[0][0] == "S" and words[1][0] == "W"
        assert typed != "Sigourney Weaver and Al"
        assert all(abs(len(a) - len(b)) <= 1 for a, b in zip(words, ["Sigourney", "Weaver"]))

"""The refinement benchmark (issue 32): two turns, the second relative to the cards the first one showed.

``llmkb evaluate-refinements --dataset D`` runs :func:`evaluate_refinements`. :func:`generate_cases` writes the
openings from the KB alone (never from dialogues): a liked movie ("I liked Heat (1995). What else would I enjoy?")
or a genre ("Any good crime movies?"). The served recommender answers the opening as chat does, and its cards become
the recommender's turn; then the seeker refines: "Something more recent?", "Anything older?", "Something funnier?",
"Something scarier?", or "Not the first one. Something else?". An item of the second top 5 satisfies the refinement
when it is newer than the newest card shown, older than the oldest, holds the genre (comedy, horror), or, for "not
the first one", is not that card. Whatever the kind, none of the cards shown may come back: they were turned down.

The same system answering "Something else?" instead of the refinement is the baseline: how often the second list
satisfies a refinement that nobody asked for. The report keeps every case with both lists, so the numbers can be
recomputed from it (:func:`rescore`).

>>> from llmkb.kb.documents import KBDocument
>>> facts = FactIndex.from_documents([KBDocument("1", "Heat", 1995, {"genre": ["crime"]}),
...                                   KBDocument("2", "Fargo", 1996, {"genre": ["crime", "comedy"]})])
>>> [holds(facts, kind, ["1"], "2") for kind in ("newer", "older", "funnier", "not-first")]
[True, False, True, True]
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from llmkb.data.io import atomic_write_json
from llmkb.data.records import RECOMMENDER, Turn
from llmkb.errors import LLMKBError
from llmkb.evaluation.harness import command_line
from llmkb.kb.facts import FactIndex, Preference
from llmkb.pipeline.config import RecommenderConfig

TOP = 5  # the cards of each turn
LIKE_POOL = 200  # liked movies are drawn from the catalogue's most mentioned
GENRE_ITEMS = 50  # genres of at least this many items open a case
MIN_SATISFYING = 5  # a case counts in the headline when at least this many unshown items satisfy its refinement
BOOTSTRAP = 1000
OPENINGS = {
    "liked": ("I liked {m}. What else would I enjoy?", "I really enjoyed {m}. Any suggestions?"),
    "genre": ("Any good {g} movies?", "I'm in the mood for {ag} movie."),
}
REFINEMENTS = {
    "newer": ("Something more recent?", "Hmm, anything newer?", "Do you have something a bit more recent?",
              "these are all kind of old, got newer ones?"),
    "older": ("Anything older?", "I'd like something older please.", "any older classics?"),
    "funnier": ("Something funnier?", "Those look heavy. Anything funnier?", "something a bit lighter maybe"),
    "scarier": ("Something scarier?", "Could you find something scarier?", "more scary ones please"),
    "not-first": ("Not the first one. Something else?", "not that one", "Not the first one, I've seen it."),
}
GENRES = {"funnier": "comedy", "scarier": "horror"}
NEUTRAL = "Something else?"


@dataclass(frozen=True)
class Case:
    kind: str  # the refinement: a key of REFINEMENTS
    opening: str
    refinement: str
    genre: str | None = None  # the genre the opening asks for, which the refined list should keep


def holds(facts: FactIndex, kind: str, shown: Sequence[str], item: str) -> bool:
    """Whether ``item`` satisfies refinement ``kind`` of the cards ``shown`` (ids in the order shown)."""
    if kind in GENRES:
        return facts.satisfies(item, Preference("genre", GENRES[kind]))
    if kind == "not-first":
        return item != shown[0]
    years = [facts.years[i] for i in shown if i in facts.years]
    year = facts.years.get(item)
    if not years or year is None:
        return False
    return year > max(years) if kind == "newer" else year < min(years)


def generate_cases(facts: FactIndex, titles: Mapping[str, str], popularity: Sequence[str], per_kind: int,
                   seed: int) -> list[Case]:
    """``per_kind`` cases of each refinement, half opening with a liked movie (``titles``: id → "Title (Year)", of
    the ``LIKE_POOL`` most popular) and half with a one-word genre of at least ``GENRE_ITEMS`` items, seeded."""
    rng = random.Random(seed)
    liked = [titles[i] for i in popularity[:LIKE_POOL] if i in titles]
    least = min(GENRE_ITEMS, max(1, len(facts.years) // 10))  # a tiny catalogue: a tenth of it
    genres = sorted(name.lower() for key, name in facts.values("genre").items()
                    if len(facts.postings[("genre", key)]) >= least and " " not in name)
    if not liked or not genres:
        raise LLMKBError(f"the KB has no popular titled movie or no genre of {least} items, so no case could be "
                         "written; rebuild the KB (`llmkb kb build --force`)")
    cases = []
    for kind, sayings in REFINEMENTS.items():
        for n in range(per_kind):
            if n % 2 == 0:
                cases.append(Case(kind, rng.choice(OPENINGS["liked"]).format(m=rng.choice(liked)), rng.choice(sayings)))
                continue
            genre = rng.choice([g for g in genres if g != GENRES.get(kind)])
            article = f"{'an' if genre[0] in 'aeiou' else 'a'} {genre}"
            cases.append(Case(kind, rng.choice(OPENINGS["genre"]).format(g=genre, ag=article), rng.choice(sayings),
                              genre))
    return cases


def _cell(rows: Sequence[Mapping], system: str) -> dict:
    values = np.array([np.mean(row[system]["satisfied"] + [False] * (TOP - len(row[system]["satisfied"])))
                       for row in rows])
    if not len(values):
        return {"cases": 0}
    means = values[np.random.default_rng(0).integers(0, len(values), (BOOTSTRAP, len(values)))].mean(axis=1)
    kept = [np.mean(row[system]["kept"]) for row in rows if row["genre"] and row[system]["kept"]]
    return {"cases": len(values), "precision@5": round(float(values.mean()), 4),
            "precision@5 95% CI": [round(float(x), 4) for x in np.percentile(means, [2.5, 97.5])],
            "shown again": round(float(np.mean([bool(row[system]["shown_again"]) for row in rows])), 4),
            "kept the genre": round(float(np.mean(kept)), 4) if kept else None}


def rescore(rows: Sequence[Mapping], facts: FactIndex, min_satisfying: int = MIN_SATISFYING) -> dict:
    """Per system and kind, over the cases at least ``min_satisfying`` unshown items could satisfy: the share of the
    second top 5 that satisfies the refinement (with a bootstrap 95% interval), the share of cases where a card
    shown in the first turn comes back, and (genre openings) the share of the second top 5 that keeps the genre."""
    for row in rows:
        for system in ("refined", "baseline"):
            row[system]["satisfied"] = [holds(facts, row["kind"], row["shown"], i) for i in row[system]["top"]]
            row[system]["shown_again"] = [i for i in row[system]["top"] if i in row["shown"]]
            row[system]["kept"] = [facts.satisfies(i, Preference("genre", row["genre"])) for i in row[system]["top"]
                                   ] if row["genre"] else []
    kept = [row for row in rows if row["satisfying"] >= min_satisfying]
    return {system: {"overall": _cell(kept, system),
                     "kinds": {kind: _cell([r for r in kept if r["kind"] == kind], system) for kind in REFINEMENTS}}
            for system in ("refined", "baseline")}


def evaluate_refinements(config: RecommenderConfig, per_kind: int = 40, seed: int = 0, out: Path | None = None,
                         progress: bool = True) -> dict:
    """Write the cases from ``config``'s KB, answer each as a two-turn chat with the recommender ``config`` serves
    (and once more with ``NEUTRAL`` as the second turn), score them; write the report to ``out`` atomically."""
    from llmkb.pipeline import Recommender

    if per_kind < 1:
        raise LLMKBError(f"--per-kind must be at least 1 (got {per_kind})")
    started = time.time()
    recommender = Recommender(config, progress=progress)
    stages = recommender.stages
    titles = {i: item.display for i, item in stages.catalog.items()}
    cases = generate_cases(stages.facts, titles, stages.dataset.popularity, per_kind, seed)
    rows = []
    for case in tqdm(cases, desc="refinements", unit="case", disable=not progress):
        first = recommender.respond([], case.opening, reply=False)
        shown = [r.item.item_id for r in first.items]
        history = [*first.turns, Turn(RECOMMENDER, "Here are some.", tuple(shown))]
        refined = recommender.respond(history, case.refinement, reply=False)
        baseline = recommender.respond(history, NEUTRAL, reply=False)
        unshown = set(stages.catalog) - set(shown)
        rows.append({**asdict(case), "shown": shown,
                     "satisfying": sum(holds(stages.facts, case.kind, shown, i) for i in unshown),
                     "read": [str(p) for p in refined.state.preferences if p.turn == len(history)],
                     "refined": {"top": [r.item.item_id for r in refined.items][:TOP]},
                     "baseline": {"top": [r.item.item_id for r in baseline.items][:TOP]}})
    dataset = stages.dataset
    report = {"benchmark": "refinements", "dataset": dataset.name, "command": command_line(),
              "date": time.strftime("%Y-%m-%d"), "data_files": dataset.file_hashes(),
              "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(recommender.config).items()},
              "generation": {"per_kind": per_kind, "seed": seed, "cases": len(cases), "top": TOP,
                             "kinds": dict(Counter(c.kind for c in cases)), "neutral": NEUTRAL,
                             "min_satisfying": MIN_SATISFYING},
              "metrics": rescore(rows, stages.facts), "seconds": round(time.time() - started, 1), "rows": rows}
    if out is not None:
        atomic_write_json(out, report)
    return report


def format_report(report: Mapping) -> str:
    """Per kind: precision@5 of the refined second turn [95% CI] and of the baseline, and the share of cases where a
    card shown first came back."""
    m = report["metrics"]
    lines = [f"{report['dataset']}: {report['generation']['cases']} two-turn cases; second top {TOP} satisfying the "
             f"refinement (cases with >= {report['generation']['min_satisfying']} satisfying items)",
             f"  {'kind':<10} {'n':>4} {'refined P@5':>12} {'95% CI':>16} {'shown again':>12} {'kept genre':>11}"
             f" | {'baseline P@5':>12} {'shown again':>12} {'kept genre':>11}"]
    for kind in [*REFINEMENTS, "overall"]:
        a, b = (m[s]["overall"] if kind == "overall" else m[s]["kinds"][kind] for s in ("refined", "baseline"))
        if not a["cases"]:
            lines.append(f"  {kind:<10} {0:>4} {'-':>12}")
            continue
        ci = "[{:.3f}, {:.3f}]".format(*a["precision@5 95% CI"])
        kept = ["-" if c["kept the genre"] is None else f"{c['kept the genre']:.3f}" for c in (a, b)]
        lines.append(f"  {kind:<10} {a['cases']:>4} {a['precision@5']:>12.3f} {ci:>16} {a['shown again']:>12.3f} "
                     f"{kept[0]:>11} | {b['precision@5']:>12.3f} {b['shown again']:>12.3f} {kept[1]:>11}")
    return "\n".join(lines)

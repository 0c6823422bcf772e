"""Interactive evaluation: a simulated user (``llmkb.evaluation.simulator``) chats with a system for up to R rounds
(PROTOCOLS.md "Interactive evaluation", after iEvaLM, EMNLP'23).

``llmkb simulate --dataset D --system S --simulator {kb,llm} --setting {free-chat,cold-start,descriptions}`` draws N
test std samples with a seed; each one's first gold movie is the target, which the system never sees. The conversation
starts from the real turns before the sample's turn (free chat) or from a seeded generic opener (cold start). In the
descriptions setting (issue 32) the user states no attribute: it opens with the first part of its target's plot,
retold without names or rare words, tells the next part each round, and turns cards down without naming them; only
samples whose target's plot can be told that way are drawn. Each round the
system ranks the conversation so far into 50 catalogue ids, leaving out the movies the user has turned down (as the
chat leaves out mentioned ones); the recommender's turn names the top 5; the user accepts when the target is among
them, else turns them down and reveals one more attribute of the target.

Transcripts (JSON Lines, one conversation per line with every round's 50 ids) and a report are written. The
report's metrics come from the transcripts alone (:func:`score`), so anyone can re-score them. An interrupted run
resumes from the conversations it finished.

>>> rows = [{"rounds": [{"rank": 7}, {"rank": 2}]}, {"rounds": [{"rank": None}]}]
>>> m = score(rows, rounds=5)
>>> m["success@5"]["rate"], m["success@10"]["rate"], m["success@1"]["rate"], m["mean_rounds"]["mean"]
(0.5, 0.5, 0.0, 2.0)
>>> m["curve"]["success@10"]
[0.5, 0.5, 0.5, 0.5, 0.5]
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.data.dataset import Dataset
from llmkb.data.io import AppendCache, atomic_write_json, atomic_write_jsonl
from llmkb.data.records import RECOMMENDER, SEEKER, Sample, Turn
from llmkb.errors import LLMKBError
from llmkb.evaluation.harness import command_line, protocol_list
from llmkb.evaluation.simulator import (ACCEPT, KBSimulator, LeakGuard, TargetProfile, Utterance, Vocabulary,
                                        description_profile, rare_plot_words, target_profile)
from llmkb.kb import build_kb, load_kb
from llmkb.paths import artifacts_dir
from llmkb.postprocess.reply import listing

SETTINGS = ("free-chat", "cold-start", "descriptions")
ROUNDS = {"free-chat": 5, "cold-start": 5, "descriptions": 3}  # each setting's rounds (issue 32: descriptions in 3)
SUCCESS_KS = (1, 5, 10, 50)
CHUNK = 32  # conversations run side by side (one batch per round), then saved


@dataclass(frozen=True)
class Simulation:
    dataset: str
    system: str
    simulator: str = "kb"
    setting: str = "free-chat"
    rounds: int = 5
    shown: int = 5  # movies the user reads each round
    targets: int = 300
    seed: int = 0
    models: dict = field(default_factory=dict, hash=False)  # what the system and the simulator load

    @property
    def fingerprint(self) -> str:
        """What makes two runs the same: a finished conversation of another run is never reused."""
        fields = {k: v for k, v in asdict(self).items() if k != "targets"}
        return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


def simulation_paths(dataset: str, system: str, simulator: str, setting: str, rounds: int = 5, targets: int = 300,
                     seed: int = 0, variant: str = "", out: Path | None = None) -> tuple[Path, Path]:
    """Where ``llmkb simulate`` writes the transcripts and the report of a run (``out``: the transcripts there, the
    report beside them)."""
    stem = f"{dataset}-{system}{variant}-{simulator}-{setting}-r{rounds}-n{targets}-s{seed}"
    transcripts = out or artifacts_dir() / "simulations" / f"{stem}.transcripts.jsonl"
    return transcripts, transcripts.with_name(transcripts.name.removesuffix(".jsonl").removesuffix(".transcripts")
                                              + ".report.json")


def draw_targets(samples: Sequence[Sample], n: int, seed: int) -> list[Sample]:
    """``n`` samples drawn with ``seed`` (all when fewer), in the split's order; a larger ``n`` keeps the smaller
    draw's samples (a prefix of one seeded shuffle)."""
    order = list(range(len(samples)))
    random.Random(seed).shuffle(order)
    return [samples[i] for i in sorted(order[:n])]


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a rate.

    >>> [round(x, 3) for x in wilson(5, 10)]
    [0.237, 0.763]
    """
    if n == 0:
        return 0.0, 0.0
    p = successes / n
    centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def score(rows: Sequence[dict], rounds: int, shown: int = 5) -> dict:
    """The protocol's metrics from transcripts: success@k within ``rounds`` (the target in the top k of some round)
    with Wilson intervals, its curve after each round, and the mean number of rounds to success (the round the user
    accepted: the target in the top ``shown``) with a normal 95% interval."""
    n = len(rows)
    ranks = [[r["rank"] for r in row["rounds"][:rounds]] for row in rows]
    result: dict = {"targets": n}
    curve: dict[str, list[float]] = {}
    for k in SUCCESS_KS:
        first = [next((i for i, rank in enumerate(found, 1) if rank is not None and rank <= k), None) for found in ranks]
        hits = sum(f is not None for f in first)
        low, high = wilson(hits, n)
        result[f"success@{k}"] = {"rate": hits / n if n else 0.0, "low": low, "high": high, "successes": hits}
        curve[f"success@{k}"] = [sum(f is not None and f <= r for f in first) / n if n else 0.0
                                 for r in range(1, rounds + 1)]
    accepted = [next(i for i, rank in enumerate(found, 1) if rank is not None and rank <= shown)
                for found in ranks if any(rank is not None and rank <= shown for rank in found)]
    mean = sum(accepted) / len(accepted) if accepted else 0.0
    spread = 1.96 * math.sqrt(sum((a - mean) ** 2 for a in accepted) / max(len(accepted) - 1, 1) / len(accepted)) \
        if accepted else 0.0
    result["mean_rounds"] = {"mean": mean, "low": mean - spread, "high": mean + spread, "over": len(accepted)}
    result["curve"] = curve
    said = [r for row in rows for r in row["rounds"][:rounds] if r.get("user")]
    openers = [row["opener_source"] for row in rows if row.get("opener_source")]
    result["leaks"] = {"scored": sum(bool(r.get("leak")) for r in said), "caught": sum(r.get("caught", 0) for r in said),
                       "unfaithful": sum(r.get("unfaithful", 0) for r in said),
                       "templated": sum(r.get("source") == "template" for r in said), "user_turns": len(said),
                       "gave_up": sum(bool(row.get("gave_up")) for row in rows),
                       "openers": dict(sorted(Counter(openers).items()))}  # by source: llm, paraphrase, template
    return result


class Conversation:
    """One target's conversation as it runs."""

    def __init__(self, sample: Sample, profile: TargetProfile, context: list[Turn], opener: Utterance | None = None):
        self.sample, self.profile, self.opener = sample, profile, opener
        self.turns = [*context, *([Turn(SEEKER, opener.text)] if opener else [])]
        self.start = len(context)  # the real turns before the simulation (free chat)
        self.rejected: list[str] = []
        self.rounds: list[dict] = []
        self.done = False
        self.gave_up = False

    def as_sample(self) -> Sample:
        """The conversation so far as a system sees it: no gold, no target."""
        s = self.sample
        return Sample(f"{s.sample_id}#{len(self.rounds) + 1}", s.dialogue_id, s.turn_index, tuple(self.turns), ())

    def row(self, fingerprint: str) -> dict:
        """The transcript line (its key, ``sample_id``, aside): the simulated turns and every round's ranking."""
        return {"target": self.profile.item_id, "target_title": self.profile.title,
                "attributes": [str(a) for a in self.profile.attributes], "context_turns": self.start,
                "opener_source": self.opener.source if self.opener else None,
                "gave_up": self.gave_up, "rounds": self.rounds,
                "turns": [{"role": t.role, "text": t.text, "items": list(t.items)} for t in self.turns[self.start:]],
                "fingerprint": fingerprint}


class Conversations:
    """One run's conversations, chunk by chunk: the targets drawn and their profiles built once (and, for the LLM
    user, every first phrasing made up front), then :meth:`run` plays a chunk of conversations side by side."""

    def __init__(self, dataset: Dataset, system, simulator: KBSimulator, run: Simulation):
        self.system, self.simulator, self.simulation = system, simulator, run
        self.dataset, self.catalog = dataset, dataset.catalog
        documents = {doc.item_id: doc for doc in load_kb(build_kb(dataset)[0])}
        vocabulary = Vocabulary.from_documents(documents.values())
        samples = dataset.samples("test", "std")
        if run.setting == "descriptions":
            guards = {item: LeakGuard(self.catalog[item].display, vocabulary.genre_words,
                                      telling=rare_plot_words(documents[item].plot, vocabulary))
                      for item in {s.gold[0] for s in samples}}
            profiles = {item: description_profile(documents[item], guard, vocabulary) for item, guard in guards.items()}
            samples = [s for s in samples if profiles[s.gold[0]].attributes]
            if not samples:
                raise LLMKBError(f"no {dataset.name} test target has a plot that can be told without names or rare "
                                 "words, so the descriptions setting has no one to simulate (does its KB hold plots?)")
        self.eligible = len(samples)  # the samples the targets are drawn from
        self.targets = draw_targets(samples, run.targets, run.seed)
        if run.setting != "descriptions":
            guards = {s.gold[0]: LeakGuard(self.catalog[s.gold[0]].display, vocabulary.genre_words)
                      for s in self.targets}
            profiles = {item: target_profile(documents[item], dataset.metadata.get(item, {}), guard, vocabulary)
                        for item, guard in guards.items()}
        self.guards = {s.gold[0]: guards[s.gold[0]] for s in self.targets}
        self.profiles = {item: profiles[item] for item in self.guards}
        if hasattr(simulator, "prepare"):
            simulator.prepare([self.profiles[s.gold[0]] for s in self.targets])

    def run(self, chunk: list[Sample]) -> list[dict]:
        """The transcript rows of ``chunk``'s conversations (one ranking batch per round)."""
        run, catalog = self.simulation, self.catalog
        conversations = [Conversation(s, self.profiles[s.gold[0]], *self._opening(s)) for s in chunk]
        for round_ in range(1, run.rounds + 1):
            active = [c for c in conversations if not c.done]
            if not active:
                break
            for conversation, candidates in zip(active, self.system.rank([c.as_sample() for c in active])):
                ranked = protocol_list(candidates, self.dataset, exclude=conversation.rejected)
                _answer(conversation, ranked, round_, run, self.simulator, self.guards[conversation.profile.item_id],
                        catalog)
        return [c.row(run.fingerprint) for c in conversations]

    def _opening(self, sample: Sample) -> tuple[list[Turn], Utterance | None]:
        """What comes before round 1: the real turns (free chat); or the user's opener, generic (cold start) or the
        first part of the target's description."""
        if self.simulation.setting == "free-chat":
            return list(sample.context), None
        item = sample.gold[0]
        said = self.simulator.answer(self.profiles[item], 1, (), (), self.guards[item]) \
            if self.simulation.setting == "descriptions" else None
        return [], said or Utterance(self.simulator.opener(sample.sample_id), source="fixed")


def simulate(dataset: Dataset, system, simulator: KBSimulator, run: Simulation, transcripts: Path, report: Path,
             progress: bool = True, elsewhere: Callable | None = None) -> dict:
    """Run ``run``'s conversations of ``system`` with ``simulator``; write ``transcripts`` and ``report``.

    ``elsewhere(chunks, keep, total, initial)``: runs the chunks of conversations on other workers and calls
    ``keep(chunk, rows)`` as each finishes (:func:`llmkb.scale.on_workers`); the chunks are those one process plays,
    so the transcripts are the same."""
    started = time.time()
    conversations = Conversations(dataset, system, simulator, run)
    targets = conversations.targets
    partial = AppendCache(transcripts.with_name(transcripts.name + ".partial"), key="sample_id")
    done = {sid for sid, row in partial.rows.items() if row.get("fingerprint") == run.fingerprint}
    todo = [s for s in targets if s.sample_id not in done]
    chunks = [todo[start:start + CHUNK] for start in range(0, len(todo), CHUNK)]
    keep = lambda chunk, rows: partial.add({s.sample_id: row for s, row in zip(chunk, rows)})  # noqa: E731
    if elsewhere is not None:
        elsewhere(chunks, keep, total=len(targets), initial=len(targets) - len(todo))
    else:
        with tqdm(total=len(targets), initial=len(targets) - len(todo), unit="conversation", disable=not progress,
                  desc=f"{run.system} × {run.simulator} user ({run.setting}) on {run.dataset}") as bar:
            for chunk in chunks:
                keep(chunk, conversations.run(chunk))
                bar.update(len(chunk))
    rows = [{"sample_id": s.sample_id, **partial[s.sample_id]} for s in targets]
    metrics = score(rows, run.rounds, run.shown)
    atomic_write_jsonl(transcripts, rows)
    partial.path.unlink(missing_ok=True)
    result = {
        "protocol": f"{run.dataset}-interactive", "split": "test", **asdict(run),
        "metrics": metrics,
        "exclusion": "movies the user turned down are left out of later rounds, for every system",
        "eligible_samples": conversations.eligible,  # the test std samples the targets were drawn from
        "command": command_line(),
        "transcripts": str(transcripts), "data_files": dataset.file_hashes(),
        "seconds": round(time.time() - started, 1),  # this invocation's, over the conversations it ran
        "resumed": len(targets) - len(todo),  # conversations an interrupted invocation had finished
        "date": time.strftime("%Y-%m-%d"),
    }
    atomic_write_json(report, result)
    return result


def _answer(conversation: Conversation, ranked: list[str], round_: int, run: Simulation, simulator: KBSimulator,
            guard: LeakGuard, catalog) -> None:
    """Record round ``round_``'s list; add the recommender's turn and the user's answer."""
    target = conversation.profile.item_id
    shown = ranked[:run.shown]
    rank = ranked.index(target) + 1 if target in ranked else None
    titles = [catalog[i].display for i in shown]
    conversation.turns.append(Turn(RECOMMENDER, f"How about {listing(titles)}?", tuple(shown)))
    record = {"round": round_, "rank": rank, "ranked": ranked}
    conversation.rounds.append(record)
    if rank is not None and rank <= run.shown:
        conversation.turns.append(Turn(SEEKER, ACCEPT))
        conversation.done = True
        return
    conversation.rejected.extend(shown)
    if round_ == run.rounds:
        conversation.done = True
        return
    describing = run.setting == "descriptions"  # its opener told part 1, so round r tells part r + 1
    said = simulator.answer(conversation.profile, round_ + describing, titles, shown, guard, name_shown=not describing)
    if said is None:  # every phrasing leaked: the user leaves rather than give the title away
        conversation.done = conversation.gave_up = True
        return
    record.update(user=said.text, source=said.source, caught=said.leaks, unfaithful=said.unfaithful,
                  leak=guard.leaks(said.text))
    conversation.turns.append(Turn(SEEKER, said.text, said.items))

"""User-centric metrics of the standardized ReDial re-evaluation (Kostric & Balog, SIGIR'26; PROTOCOLS.md).

Per dialogue, from the same samples and predictions as Recall@k: a sample's top-1 pick earns a reward when it is one
of the sample's gold movies and the questionnaire says the seeker liked and saw it (1.0) or saw it (0.5). **SR** is
the share of dialogues (with at least one sample) where some sample earns a reward; **RDL** the mean over them of
the summed rewards divided by the dialogue's length.

PROTOCOLS.md leaves the reading open and asks for the one that reproduces the published naive row (the context's
most recent movie, no popularity fill: SR .100 and RDL .009 without dedup, 0 and 0 with dedup). None of the readings
tried gives both exactly (docs/results/interactive.md lists them); ``READING`` is the closest: gold required, the **respondent's**
questionnaire (what the recommender reported of the seeker), length in merged turns, reward 1.0 for liked and seen,
0.5 for seen. It gives the naive row SR .098 and RDL .0091 without dedup, and 0 and 0 with dedup.

>>> from llmkb.data.records import Dialogue, Sample, Turn
>>> talk = Dialogue("d", (Turn("seeker", "hi"), Turn("recommender", "Heat?")),
...                 questionnaires={"respondent": {"1": {"liked": 1, "seen": 1}}})
>>> sample = Sample("d:1", "d", 1, talk.turns[:1], ("1",))
>>> user_centric([talk], [sample], {"d:1": ["1", "2"]})
{'SR': 1.0, 'RDL': 0.5, 'dialogues': 1}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmkb.data.records import Dialogue, Sample


@dataclass(frozen=True)
class Reading:
    questionnaire: str = "respondent"  # or "initiator"
    gold_required: bool = True
    length: str = "turns"  # merged turns (the raw messages are not kept)

    def reward(self, answer: Mapping[str, int] | None) -> float:
        if not answer or answer.get("seen") != 1:
            return 0.0
        return 1.0 if answer.get("liked") == 1 else 0.5


READING = Reading()


def user_centric(dialogues: Sequence[Dialogue], samples: Sequence[Sample], ranked: Mapping[str, Sequence[str]],
                 reading: Reading = READING) -> dict:
    """SR and RDL over the dialogues with at least one of ``samples`` (``ranked``: sample id → best first; a sample
    without a list earns nothing)."""
    by_id = {d.dialogue_id: d for d in dialogues}
    rewards: dict[str, float] = {}
    for sample in samples:
        top = list(ranked.get(sample.sample_id, ()))[:1]
        dialogue = by_id[sample.dialogue_id]
        earned = 0.0
        if top and (top[0] in sample.gold or not reading.gold_required):
            earned = reading.reward(dialogue.questionnaires.get(reading.questionnaire, {}).get(top[0]))
        rewards[sample.dialogue_id] = rewards.get(sample.dialogue_id, 0.0) + earned
    if not rewards:
        return {"SR": 0.0, "RDL": 0.0, "dialogues": 0}
    n = len(rewards)
    return {"SR": round(sum(r > 0 for r in rewards.values()) / n, 4),
            "RDL": round(sum(r / max(len(by_id[d].turns), 1) for d, r in rewards.items()) / n, 4), "dialogues": n}

"""SR and RDL from ReDial's questionnaires (PROTOCOLS.md, user-centric metrics)."""

from llmkb.data.records import Dialogue, Sample, Turn
from llmkb.evaluation.user_centric import Reading, user_centric

TURNS = (Turn("seeker", "hi"), Turn("recommender", "a"), Turn("seeker", "b"), Turn("recommender", "c"))


def dialogue(name: str, answers: dict) -> Dialogue:
    return Dialogue(name, TURNS, questionnaires={"respondent": answers, "initiator": {}})


def sample(name: str, turn: int, gold: tuple) -> Sample:
    return Sample(f"{name}:{turn}", name, turn, TURNS[:turn], gold)


def test_rewards_need_the_gold_top_pick_and_a_seen_answer():
    talks = [dialogue("d1", {"1": {"liked": 1, "seen": 1}, "2": {"liked": 0, "seen": 1}}),
             dialogue("d2", {"3": {"liked": 1, "seen": 0}})]
    samples = [sample("d1", 1, ("1",)), sample("d1", 3, ("2",)), sample("d2", 1, ("3",))]
    ranked = {"d1:1": ["1"], "d1:3": ["2"], "d2:1": ["3"]}
    # d1: 1.0 (liked and seen) + 0.5 (seen) over 4 turns; d2: liked but not seen earns nothing
    assert user_centric(talks, samples, ranked) == {"SR": 0.5, "RDL": round(1.5 / 4 / 2, 4), "dialogues": 2}
    assert user_centric(talks, samples, {"d1:1": ["9", "1"]})["SR"] == 0.0  # only the top pick counts
    assert user_centric(talks, samples, {}, Reading(questionnaire="initiator"))["dialogues"] == 2


def test_a_pick_outside_the_gold_earns_nothing_unless_the_reading_drops_the_condition():
    talks = [dialogue("d1", {"1": {"liked": 1, "seen": 1}})]
    samples = [sample("d1", 1, ("2",))]
    assert user_centric(talks, samples, {"d1:1": ["1"]})["SR"] == 0.0
    assert user_centric(talks, samples, {"d1:1": ["1"]}, Reading(gold_required=False))["SR"] == 1.0

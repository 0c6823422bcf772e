import json
import warnings

from llmkb.pipeline.reply import ReplyRequest
from llmkb.fitting.reply_data import (reply_pairs, reply_writer_key, train_reply_writer, trained_reply_writer,
                                     with_reply_writer)


def test_pairs_are_reply_prompts_to_human_replies_that_give_grounded_reasons(make_stages):
    stages = make_stages(dataset="inspired", llm_scoring=False)
    pairs = reply_pairs(stages, progress=False)
    assert pairs, "the tiny world's training split has human replies that say why"
    for prompt, target in pairs:
        assert prompt.startswith("<|im_start|>system") and "Reply to the seeker" in prompt
        named = stages.replies.checker.movies(target, list(stages.catalog.values()))
        items = [stages.catalog[m.item_id] for m in named]
        check = stages.replies.checker(target, items)
        assert check.grounded and check.says_why, target
    kept = {target for _, target in pairs}
    humans = [s.gold_turn.text for s in stages.dataset.samples("train", "std")]
    assert len(kept) < len(humans)  # replies without a reason are left out


def test_replies_in_the_seekers_voice_are_left_out(make_stages, monkeypatch):
    stages = make_stages(dataset="inspired", llm_scoring=False)
    assert reply_pairs(stages, progress=False), "the tiny world's training split has a reply that says why"
    reads_as_a_reaction = lambda text: "Aliens" in text  # noqa: E731
    monkeypatch.setattr("llmkb.fitting.reply_data.reacts_without_recommending", reads_as_a_reaction)
    assert not reply_pairs(stages, progress=False)


def test_a_linker_change_names_another_writer(tiny_root, tiny_models, monkeypatch):
    """The prompts hold what the linker reads, so the writer trained before a SCORES_VERSION bump is not served."""
    before = reply_writer_key(tiny_root, tiny_models["llm"])
    monkeypatch.setattr("llmkb.fitting.reply_data.SCORES_VERSION", -1)
    reply_writer_key.cache_clear()
    assert reply_writer_key(tiny_root, tiny_models["llm"]) != before
    reply_writer_key.cache_clear()


def test_the_trained_writer_is_found_for_its_inputs_only_when_fully_trained(tiny_root, tiny_models, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path))
    options = dict(retriever=tiny_models["retriever"], reply_prompt_tokens=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
        quick = train_reply_writer(tiny_root, tiny_models["llm"], max_steps=1, progress=False, **options)
        assert (quick / "adapter_config.json").is_file() and trained_reply_writer(tiny_root, tiny_models["llm"]) is None
        steps = []
        full = train_reply_writer(tiny_root, tiny_models["llm"], progress=False, report=steps.append, **options)
    assert trained_reply_writer(tiny_root, tiny_models["llm"]) == full != quick and steps[-1] == 1.0
    from llmkb.pipeline import RecommenderConfig

    config = with_reply_writer(RecommenderConfig(dataset="inspired", llm=tiny_models["llm"], data_dir=tiny_root))
    assert config.reply_lora == full and config.reply_runtime == "onnx-int8"  # served as measured
    exact = with_reply_writer(RecommenderConfig(dataset="inspired", llm=tiny_models["llm"], data_dir=tiny_root,
                                                reply_runtime="float32"))
    assert exact.reply_lora == full and exact.reply_runtime == "float32"  # llmkb chat --float32-reply
    assert with_reply_writer(RecommenderConfig(use_llm=False, data_dir=tiny_root)).reply_lora is None
    assert isinstance(ReplyRequest((), ()).recommended, tuple)


def test_a_longer_run_keeps_snapshots_to_choose_its_length_and_is_not_served(tiny_root, tiny_models, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path))
    monkeypatch.setattr("llmkb.fitting.reply_data.SNAPSHOT_STEPS", 1)
    options = dict(retriever=tiny_models["retriever"], reply_prompt_tokens=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
        longer = train_reply_writer(tiny_root, tiny_models["llm"], max_steps=3, progress=False, **options)
    assert sorted(p.name for p in (longer / "snapshots").iterdir()) == ["step-1", "step-2"]
    assert all((p / "adapter_config.json").is_file() for p in (longer / "snapshots").iterdir())
    assert json.loads((longer / "about.json").read_text())["snapshots"] == [1, 2]
    assert not list(tmp_path.glob("reply-writer/.*"))  # no checkpoint or snapshot folder is left behind
    assert trained_reply_writer(tiny_root, tiny_models["llm"]) is None

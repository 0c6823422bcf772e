"""The first run: the service serves what is ready, builds the full system in a thread, says how far it is, and
swaps the built system in when it is done."""

import threading
import warnings
from functools import partial

import pytest

from llmkb.app import build as build_module
from llmkb.app.build import Build, build_served, served_config
from llmkb.app.session import ChatService, Session, load_engine
from llmkb.retrieval import artifacts as retriever_artifacts


@pytest.fixture()
def tiny_base(tiny_models, monkeypatch, tmp_path):
    """The tiny retriever stands in for the packaged one as what calibration starts from."""
    monkeypatch.setenv("LLMKB_ARTIFACTS", str(tmp_path / "artifacts"))
    for module in (retriever_artifacts, build_module):
        monkeypatch.setattr(module, "calibration_base", lambda dataset: tiny_models["retriever"])
    return tiny_models["retriever"]


def test_the_page_serves_the_partial_system_then_switches_to_the_built_one(tiny_root, tiny_models, tiny_base,
                                                                            tmp_path):
    load = partial(load_engine, data_dir=tiny_root, llm=tiny_models["llm"], backbones_root=tmp_path / "backbones",
                   progress=False, reply_tokens=4, prompt_tokens=4096, reply_prompt_tokens=4096)
    go = threading.Event()

    def build(dataset, state):
        assert go.wait(60)
        build_served(dataset, tiny_root, state, progress=False, replies=False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny world's deliberate data defects
        service = ChatService(load, build)
        session = Session("inspired")
        service.engine(session.dataset, session.backbone)  # the first use loads and starts the build
        before = service.status(session)
        assert "Ready with a partial system · building the full one: checking what is built" in before
        assert "built-in fusion weights" in before and "calibrated" not in before
        assert len(service.respond(session, "I loved Alien").cards) == 5  # it answers meanwhile
        go.set()
        assert service.wait_built("inspired", 120)
        built = served_config("inspired")  # the complete system: a calibrated retriever and a ranker trained for it
        assert built.ranker is not None and built.resolved().retriever != tiny_base
        after = service.status(session)
    assert after.startswith("Ready · INSPIRED") and "calibrated/model" in after and "learned ranker " in after
    assert "built-in" not in after and service.builds["inspired"].status() == "built"
    assert service.engine("inspired", "dense").recommender.config.ranker is not None

    loads = []  # a later start finds the build current and keeps the engine it loaded
    counted = lambda dataset, backbone: loads.append(backbone) or load(dataset, backbone)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = ChatService(counted, lambda dataset, state: build_served(dataset, tiny_root, state, progress=False, replies=False))
        again.engine("inspired", "dense")
        assert again.status(Session("inspired")).startswith("Ready with a partial system")  # until it has checked
        assert again.wait_built("inspired", 120) and again.status(Session("inspired")).startswith("Ready · INSPIRED")
    assert loads == ["dense"]


def test_ready_only_once_the_built_system_answers(tiny_root, tiny_models, tiny_base, tmp_path):
    """The build ends before the built engine is loaded; until it is swapped in, the page says so (CI once read
    "Ready" in that gap and found the partial system)."""
    load = partial(load_engine, data_dir=tiny_root, llm=tiny_models["llm"], backbones_root=tmp_path / "backbones",
                   progress=False, reply_tokens=4, prompt_tokens=4096, reply_prompt_tokens=4096)
    reloading, release = threading.Event(), threading.Event()

    def slow_reload(dataset, backbone):
        if loads:
            reloading.set()
            assert release.wait(60)
        loads.append(backbone)
        return load(dataset, backbone)

    loads = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        service = ChatService(slow_reload, lambda dataset, state: build_served(dataset, tiny_root, state,
                                                                                progress=False, replies=False))
        session = Session("inspired")
        service.engine(session.dataset, session.backbone)
        assert reloading.wait(120)
        between = service.status(session)
        release.set()
        assert service.wait_built("inspired", 120)
        after = service.status(session)
    assert between.startswith("Ready with a partial system · loading the full one"), between
    assert after.startswith("Ready · INSPIRED") and "calibrated/model" in after, after


def test_a_failed_build_leaves_the_partial_system_serving_and_says_why(tiny_root, tiny_models, tiny_base, tmp_path):
    load = partial(load_engine, data_dir=tiny_root, llm=tiny_models["llm"], backbones_root=tmp_path / "backbones",
                   progress=False, reply_tokens=4, prompt_tokens=4096, reply_prompt_tokens=4096)

    def build(dataset, state):
        state.at(0.4, "calibrating the retriever")
        raise OSError("disk full")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        service = ChatService(load, build)
        service.engine("inspired", "dense")
        assert service.wait_built("inspired", 60)
        status = service.status(Session("inspired"))
        assert "Ready with a partial system · the build failed: disk full" in status
        assert len(service.respond(Session("inspired"), "I loved Alien").cards) == 5


def test_build_progress_reads_as_a_status():
    build = Build()
    assert build.status() == "checking what is built" and build.running
    build.at(0.42, "calibrating the retriever")
    assert build.status() == "calibrating the retriever: 42%"
    build.at(1.7)
    assert build.fraction == 1.0 and build.step == "calibrating the retriever"
    build.finished = True
    assert build.status() == "built" and not build.running


def test_the_reply_writer_trains_while_the_built_ranker_serves(tiny_root, tiny_models, tiny_base, tmp_path,
                                                               monkeypatch):
    load = partial(load_engine, data_dir=tiny_root, llm=tiny_models["llm"], backbones_root=tmp_path / "backbones",
                   progress=False, reply_tokens=4, prompt_tokens=4096, reply_prompt_tokens=4096)
    gate, train = threading.Event(), build_module.train_reply_writer

    def gated(*args, **kwargs):
        assert gate.wait(120)
        return train(*args, **kwargs)

    monkeypatch.setattr(build_module, "train_reply_writer", gated)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        service = ChatService(load, lambda dataset, state: build_served(
            dataset, tiny_root, state, progress=False, llm=tiny_models["llm"], reply_prompt_tokens=4096))
        session = Session("inspired")
        service.engine(session.dataset, session.backbone)
        for _ in range(600):
            if service.builds["inspired"].ranked:
                break
            threading.Event().wait(0.2)
        during = service.status(session)
        gate.set()
        assert service.wait_built("inspired", 120)
        after = service.status(session)
    assert during.startswith("Ready · INSPIRED") and during.endswith("training the reply writer"), during
    assert "learned ranker" in during and "(base LLM" in during
    assert after.startswith("Ready · INSPIRED") and "trained reply writer" in after and "8-bit in ONNX Runtime" in after, after
    served = service.engine("inspired", "dense").recommender.config
    assert served.reply_lora is not None and served.reply_runtime == "onnx-int8"

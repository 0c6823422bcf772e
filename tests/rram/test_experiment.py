"""``run_methods``: config sweeps, extra metrics, per-layer configs, and a pinned fingerprint of its numbers."""

import copy

import pytest
import torch
from torch import nn

import rram
from rram.analysis import operating_points
from rram.experiment import ExperimentOptions, config_dict, run_methods, standard_configs, sweep_configs
from rram.mixed import budget_configs
from rram.retrain import RetrainConfig, Retraining


def test_sweep_configs_labels_and_methods():
    cfgs = sweep_configs(key_bits=[2, 4], sparsities=[0.1], prune_fractions=[0.0, 0.25])
    assert set(cfgs) == {"dense", "reconstruct-2b", "reconstruct-4b", "reconstruct-2b-p0.25", "reconstruct-4b-p0.25",
                         "quantize-2b", "quantize-4b", "magnitude-0.1", "row-0.1", "column-0.1", "block-0.1"}
    assert cfgs["reconstruct-2b-p0.25"].method.reconstruct.prune_fraction == 0.25
    assert cfgs["row-0.1"].method.sparsity == 0.1
    assert set(sweep_configs(methods=["quantize"])) == {"dense", "quantize-4b"}
    gptq = sweep_configs(key_bits=[4], methods=["gptq", "group", "reconstruct+gptq"])
    assert set(gptq) == {"dense", "gptq-4b", "group-4b", "reconstruct+gptq-4b"}
    assert gptq["gptq-4b"].method.family == "gptq" and gptq["reconstruct+gptq-4b"].method.compensate
    with pytest.raises(ValueError, match="unknown method families"):
        sweep_configs(methods=["awq"])


def test_runs_resume_from_the_cache_within_a_budget(tmp_path):
    base = nn.Sequential(nn.Linear(128, 8))
    configs = sweep_configs(key_bits=[2, 4], methods=["quantize"])
    calls = []

    def evaluate(m):
        calls.append(1)
        return {"accuracy": 1.0 - len(calls) / 10, "units": [1.0, 0.0]}

    first = run_methods(base, evaluate, configs, ExperimentOptions(cache_dir=tmp_path, budget_seconds=0.0))
    assert [r.name for r in first.results] == ["dense"] and first.meta["not_run"] == ["quantize-2b", "quantize-4b"]
    options = ExperimentOptions(cache_dir=tmp_path, tolerance=0.15, report_evaluate=lambda m: {"accuracy": 0.5})
    second = run_methods(base, evaluate, configs, options)
    assert [r.name for r in second.results] == ["dense", "quantize-2b", "quantize-4b"] and len(calls) == 3
    assert second.results[0].extra["units"] == [1.0, 0.0] and "cpu_seconds" in second.results[1].extra
    assert "report" in second.get("quantize-2b").extra  # 0.8 is within 15% of 0.9
    assert "report" not in second.get("quantize-4b").extra  # 0.7 is not
    with pytest.raises(ValueError, match="another config"):
        run_methods(base, evaluate, {"dense": rram.RRAMConfig.build("dense", weight_bits=6)},
                    ExperimentOptions(cache_dir=tmp_path))


def test_run_methods_keeps_extra_metrics():
    base = nn.Sequential(nn.Linear(128, 8))
    rep = run_methods(base, lambda m: {"accuracy": 1.0, "other": 2.0}, {"dense": rram.RRAMConfig.build("dense")},
                      ExperimentOptions(float_accuracy=True))
    assert rep.results[0].extra["metrics"] == {"other": 2.0} and rep.meta["float_metrics"] == {"other": 2.0}
    with pytest.raises(ValueError, match="'dense' entry"):
        run_methods(base, lambda m: 1.0, {"reconstruct": rram.RRAMConfig()})


def test_per_layer_configs_are_runs_like_any_other():
    base = nn.Sequential(nn.Linear(256, 256), nn.Linear(256, 256))
    mixed = {"0": rram.RRAMConfig(), "*": rram.RRAMConfig.build(key_bits=6)}
    rep = run_methods(base, lambda m: 1.0, {"dense": rram.RRAMConfig.build("dense"), "mixed": mixed})
    assert rep.get("mixed").cost["crossbars"] == 16 + 24 and [r["bits"] for r in rep.get("mixed").layers] == [4, 6]
    assert rep.get("mixed").config["patterns"] == {"0": {}, "*": {"method.block_outputs": 21,
                                                                  "method.reconstruct.key_bits": 6}}
    assert config_dict(rram.RRAMConfig()) == rram.RRAMConfig().to_dict()


def test_retraining_is_seeded():
    base = nn.Sequential(nn.Linear(128, 128), nn.Dropout(0.5), nn.Linear(128, 8))
    x = torch.randn(16, 128)
    options = ExperimentOptions(retrain_dense=True, retraining=Retraining(
        lambda m, b: m(b).pow(2).mean(), [x], RetrainConfig(steps=3, lr=1e-2)))
    losses = []
    for _ in range(2):
        torch.randn(5)  # the caller's random state moves on; the run does not depend on it
        rep = run_methods(base, lambda m: float(m(x).sum()), {"dense": rram.RRAMConfig.build("dense")}, options)
        losses.append(rep.results[0].extra["retrain_last_loss"])
    assert losses[0] == losses[1]


# ---- fingerprint: numbers computed by the code before the API redesign (run_methods with 15 parameters) ------
# name: (accuracy, mae, crossbars, programmed cells, energy pJ, latency ns, area mm²,
#        per-layer crossbars, per-layer ADC conversions, per-layer energy pJ, last retraining loss)
PLAIN = {
    "dense": (0.9946991731412709, 0.0010356330312788486, 48, 783320, 131487.18933333334, 3200.0, 0.2585951874104938, (32, 16), (32768, 16384), (87603.59288888889, 43883.59644444444), None),
    "quantize-4b": (0.9005155712366104, 0.019476810470223427, 24, 364472, 66548.18133333334, 3200.0, 0.21361323541049382, (16, 8), (16384, 8192), (44310.92088888889, 22237.260444444444), None),
    "reconstruct": (0.9093379601836205, 0.01779208704829216, 24, 366428, 67257.43466666667, 3200.0, 0.21544150054938271, (16, 8), (16384, 8192), (44783.75644444444, 22473.67822222222), None),
    "magnitude-0.5": (0.535343199968338, 0.09072516113519669, 48, 393216, 131487.18933333334, 3200.0, 0.2585951874104938, (32, 16), (32768, 16384), (87603.59288888889, 43883.59644444444), None),
    "row-0.5": (0.24084842205047607, 0.14813897013664246, 48, 392112, 112551.38133333332, 3200.0, 0.24101118741049385, (32, 16), (32768, 16384), (74255.75288888888, 38295.62844444444), None),
    "column-0.5": (0.171852707862854, 0.15916353464126587, 48, 391872, 82556.37333333332, 2700.0, 0.2585951874104938, (32, 16), (16384, 8192), (54983.04888888889, 27573.324444444443), None),
    "block-0.5": (0.16869252920150757, 0.1603746861219406, 24, 391824, 66548.18133333334, 3200.0, 0.21361323541049382, (16, 8), (16384, 8192), (44310.92088888889, 22237.260444444444), None),
    "reconstruct-mixed4-6b-0.6": (0.9348822608590126, 0.012766286730766296, 28, 438586, 78080.60266666667, 3200.0, 0.22322369551234567, (16, 12), (16384, 12288), (44783.75644444444, 33296.84622222222), None),
}
RETRAIN = {
    "dense": (0.9155521094799042, 0.016673486679792404, 48, 783064, 131487.18933333334, 3200.0, 0.2585951874104938, (32, 16), (32768, 16384), (87603.59288888889, 43883.59644444444), 0.00205364846624434),
    "quantize-4b": (0.8595709055662155, 0.027422752231359482, 24, 363728, 66548.18133333334, 3200.0, 0.21361323541049382, (16, 8), (16384, 8192), (44310.92088888889, 22237.260444444444), 0.0022561645600944757),
    "reconstruct": (0.8817509636282921, 0.02298765257000923, 24, 366540, 67257.43466666667, 3200.0, 0.21544150054938271, (16, 8), (16384, 8192), (44783.75644444444, 22473.67822222222), 0.002278876258060336),
    "magnitude-0.5": (0.5392507016658783, 0.08966187387704849, 48, 393216, 131480.51733333332, 3200.0, 0.2585951874104938, (32, 16), (32768, 16384), (87603.59288888889, 43876.92444444444), 0.01341729424893856),
    "row-0.5": (0.24402129650115967, 0.1481226533651352, 48, 391952, 113482.19733333332, 3200.0, 0.2428951874104938, (32, 16), (32768, 16384), (75186.56888888888, 38295.62844444444), 0.030350888147950172),
    "column-0.5": (0.1917506456375122, 0.15485788881778717, 48, 391704, 82556.37333333332, 2750.0, 0.2585951874104938, (32, 16), (16384, 8192), (54983.04888888889, 27573.324444444443), 0.03958895057439804),
    "block-0.5": (0.1799125075340271, 0.1578570455312729, 24, 391752, 66548.18133333334, 3200.0, 0.21361323541049382, (16, 8), (16384, 8192), (44310.92088888889, 22237.260444444444), 0.03903816640377045),
    "reconstruct-mixed4-6b-0.6": (0.8977823853492737, 0.019937969744205475, 28, 438710, 78080.60266666667, 3200.0, 0.22322369551234567, (16, 12), (16384, 12288), (44783.75644444444, 33296.84622222222), 0.0022602882236242294),
}


@pytest.fixture
def one_thread():
    """float32 sums depend on the thread count; the pinned numbers were computed with one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fingerprint(retrain: bool) -> rram.Report:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 128)).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 256, generator=g)
    batches = [torch.randn(32, 256, generator=g) for _ in range(2)]
    with torch.no_grad():
        target = base(x)
    frozen = copy.deepcopy(base)

    def evaluate(m):
        y = m(x)
        return {"accuracy": 1 - float((y - target).norm() / target.norm()), "mae": float((y - target).abs().mean())}

    def distill(m, b):
        with torch.no_grad():
            t = frozen(b)
        return (m(b) - t).pow(2).mean()

    configs = {**standard_configs(), **budget_configs(base, rram.RRAMConfig(), (4, 6), [0.6])}
    options = ExperimentOptions(model_name="toy", metric="1-relerr", float_accuracy=True, tolerance=0.1)
    if retrain:
        options.importance = rram.calibrate(base, lambda m: [m(b) for b in batches])
        options.retraining = Retraining(distill, batches, RetrainConfig(steps=2, lr=1e-3, refresh_every=1))
        options.retrain_dense = True
    return run_methods(base, evaluate, configs, options)


def row(r: rram.MethodResult) -> tuple:
    c, layers = r.cost, r.layers
    return (r.accuracy, r.extra["metrics"]["mae"], c["crossbars"], c["programmed_cells"], c["energy_pj"],
            c["latency_ns"], c["area_mm2"], tuple(x["crossbars"] for x in layers),
            tuple(x["adc_conversions"] for x in layers), tuple(x["energy_pj_total"] for x in layers),
            r.extra.get("retrain_last_loss"))


def split(values: tuple) -> tuple[list, list]:
    """(float32 measurements: accuracy, mae, loss; cost figures, flattened)."""
    measured = [v for v in (values[0], values[1], values[-1]) if v is not None]
    return measured, [v for x in values[2:-1] for v in (x if isinstance(x, tuple) else (x,))]


@pytest.mark.parametrize("retrain,expected", [(False, PLAIN), (True, RETRAIN)], ids=["plain", "retrain"])
def test_fingerprint_of_numbers(one_thread, retrain, expected):
    rep = fingerprint(retrain)
    assert [r.name for r in rep.results] == list(expected) and rep.meta["float_accuracy"] == 1.0
    for r in rep.results:
        (measured, cost), (measured_then, cost_then) = split(row(r)), split(expected[r.name])
        # float32 sums round differently by CPU: on the AVX2-only AMD EPYC the plain MAE moved 4e-6 (relative) from
        # these figures, retraining drifts further (reconstruct's MAE 0.29%), and 8 of 783,064 retrained cells
        # rounded to zero otherwise
        assert measured == pytest.approx(measured_then, rel=1e-2 if retrain else 1e-5), r.name
        assert cost == pytest.approx(cost_then, rel=1e-4 if retrain else 1e-9), r.name
    assert {f: p.name for f, p in operating_points(rep).items()} == {
        "dense": "dense", "quantize": "quantize-4b", "reconstruct": "reconstruct"}

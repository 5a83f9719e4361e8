"""The method registry (``ltsearch.methods``): every registered method's knobs (defaults, ranges,
types, the dataset's preset), its head and its stages, checked against the values written in
``methods/*.py`` and ``presets/<method>/<dataset>.yaml``."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from ltsearch.config import config_from_dict
from ltsearch.errors import LTSearchError
from ltsearch.methods import METHODS, get_method
from ltsearch.presets import list_presets, load_preset
from ltsearch.train import planned_epochs

from ..helpers import tiny_config

# every knob's default (Param.default; the papers' per-dataset values are in the presets)
DEFAULTS = {
    "bs": {},
    "cb": {"beta": 0.9999, "loss": "softmax", "gamma": 1.0},
    "ce": {},
    "focal": {"gamma": 1.0},
    "kps": {"m_max": 0.5, "s_base": 15.0, "n_base": 50.0, "ga": "column", "ga_start": 0.6, "margins": "paper"},
    "la": {"tau": 1.0},
    "ldam-drw": {"max_m": 0.5, "s": 30.0, "beta": 0.9999, "drw_start": 0.8},
    "lort": {"delta": 0.98, "stage2_epochs": 20, "stage2_lr": 5e-4, "stage2_wd": 0.0, "stage2_batch_size": 64,
             "bn": "frozen", "tta_flip": True, "backbone": None},
    "lwr": {"theta": 0.4, "tau": 0.1, "projection": True, "lambda_schedule": "quadratic", "lambda_0": 1.0,
            "lambda_milestone": 0.5, "lambda_gamma": 0.1},
}
HEADS = {"kps": "cosine", "ldam-drw": "cosine"}  # LDAM-DRW's code scores with a normed linear layer

# (method, knob, range as the error prints it, values refused, values accepted at or near the bounds)
BOUNDS = [
    ("cb", "beta", "[0, 1)", [1.0, -0.1], [0.0, 0.9999]),
    ("cb", "gamma", "[0, 10]", [-0.5, 10.5], [0.0, 10.0]),
    ("focal", "gamma", "[0, 10]", [-0.5, 10.5], [0.0, 10.0]),
    ("kps", "m_max", "[0, 2]", [-0.01, 2.01], [0.0, 2.0]),
    ("kps", "s_base", "(0, 100]", [0.0, 100.5], [1e-3, 100.0]),
    ("kps", "n_base", "(1, 1e+06]", [1.0, 2e6], [1.5, 1e6]),
    ("kps", "ga_start", "[0, 1]", [-0.1, 1.1], [0.0, 1.0]),
    ("la", "tau", "[0, 10]", [-1.0, 11.0], [0.0, 10.0]),
    ("ldam-drw", "max_m", "[0, 2]", [-0.1, 2.5], [0.0, 2.0]),
    ("ldam-drw", "s", "(0, 100]", [0.0, 101.0], [0.5, 100.0]),
    ("ldam-drw", "beta", "[0, 1)", [1.0, -0.5], [0.0, 0.999]),
    ("ldam-drw", "drw_start", "[0, 1]", [-0.1, 1.1], [0.0, 1.0]),
    ("lort", "delta", "[0, 1)", [1.0, -0.1], [0.0, 0.99]),
    ("lort", "stage2_epochs", "[1, 10000]", [0, 10001, 2.5], [1, 10000]),
    ("lort", "stage2_lr", "(0, 10]", [0.0, 10.5], [1e-6, 10.0]),
    ("lort", "stage2_wd", "[0, 1]", [-1e-9, 1.5], [0.0, 1.0]),
    ("lort", "stage2_batch_size", "[1, 65536]", [0, 65537], [1, 65536]),
    ("lwr", "theta", "[-1, 1]", [-1.01, 1.01], [-1.0, 1.0]),
    ("lwr", "tau", "(0, 10]", [0.0, 10.5], [0.01, 10.0]),
    ("lwr", "lambda_0", "[0, 100]", [-1.0, 101.0], [0.0, 100.0]),
    ("lwr", "lambda_milestone", "(0, 1)", [0.0, 1.0], [0.01, 0.99]),
    ("lwr", "lambda_gamma", "[0, 1]", [-0.1, 1.1], [0.0, 1.0]),
]
CHOICES = [
    ("cb", "loss", "softmax, focal"),
    ("kps", "ga", "column, row, off"),
    ("kps", "margins", "paper, code"),
    ("lort", "bn", "frozen, train"),
    ("lwr", "lambda_schedule", "constant, quadratic, linear, cosine, step"),
]
COUNTS = [100, 40, 10, 3]  # training images per class, head to tail
FEAT_DIM = 16


def test_the_registered_methods_and_an_unknown_name():
    assert METHODS.names() == sorted(DEFAULTS)
    assert all(get_method(name) is METHODS.get(name) and get_method(name).name == name for name in DEFAULTS)
    with pytest.raises(LTSearchError) as err:
        get_method("kpss")
    assert str(err.value) == f"unknown method 'kpss'; choose one of: {', '.join(sorted(DEFAULTS))}"


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_resolve_without_values_gives_the_knob_defaults(name):
    method = get_method(name)
    assert method.head == HEADS.get(name, "linear")
    assert list(method.params) == list(DEFAULTS[name])
    for params in (method.resolve(None), method.resolve({}), method.defaults(), method.defaults("digits-lt")):
        assert params == DEFAULTS[name]  # digits-lt has no preset: the knobs' own defaults
        assert [type(v) for v in params.values()] == [type(v) for v in DEFAULTS[name].values()]
    assert method.resolve(DEFAULTS[name]) == DEFAULTS[name]  # every default is inside its own range


def test_every_bounded_knob_has_a_row_in_bounds():
    numeric = {(n, k) for n, m in METHODS.items() for k, p in m.params.items() if p.type in ("float", "int")}
    assert numeric == {(n, k) for n, k, *_ in BOUNDS}
    choices = {(n, k) for n, m in METHODS.items() for k, p in m.params.items() if p.type == "categorical"}
    assert choices == {(n, k) for n, k, _ in CHOICES}


@pytest.mark.parametrize("name, knob, text, refused, accepted", BOUNDS, ids=[f"{n}-{k}" for n, k, *_ in BOUNDS])
def test_range_errors_name_the_knob_and_the_range(name, knob, text, refused, accepted):
    method = get_method(name)
    for value in refused:
        with pytest.raises(LTSearchError) as err:
            method.resolve({knob: value})
        assert str(err.value) == f"method.params: '{knob}' = {value!r} is invalid; use {text}"
    for value in accepted:
        got = method.resolve({knob: value})[knob]
        assert got == value and type(got) is type(DEFAULTS[name][knob])
    for value in (math.nan, math.inf, True, "0.5", None):  # never a number of the range
        with pytest.raises(LTSearchError, match=f"'{knob}' = .* is invalid; use "):
            method.resolve({knob: value})


@pytest.mark.parametrize("name, knob, listed", CHOICES, ids=[f"{n}-{k}" for n, k, _ in CHOICES])
def test_categorical_errors_list_the_choices(name, knob, listed):
    method = get_method(name)
    for choice in listed.split(", "):
        assert method.resolve({knob: choice})[knob] == choice
    with pytest.raises(LTSearchError) as err:
        method.resolve({knob: "nope"}, where="--fix")
    assert str(err.value) == f"--fix: '{knob}' = 'nope' is invalid; use one of {listed}"


def test_types_are_coerced_or_refused():
    lort, kps = get_method("lort"), get_method("kps")
    assert lort.resolve({"stage2_epochs": 3.0})["stage2_epochs"] == 3  # a whole float is an int
    assert type(lort.resolve({"stage2_epochs": 3.0})["stage2_epochs"]) is int
    assert type(kps.resolve({"m_max": 1})["m_max"]) is float
    assert lort.resolve({"backbone": "stage1.pt"})["backbone"] == "stage1.pt"
    for knob, value, fix in (("tta_flip", "yes", "true or false"), ("tta_flip", 1, "true or false"),
                             ("backbone", 3, "a file path or null")):
        with pytest.raises(LTSearchError) as err:
            lort.resolve({knob: value})
        assert str(err.value) == f"method.params: '{knob}' = {value!r} is invalid; use {fix}"


def test_unknown_knob_names_the_method_and_the_allowed_knobs():
    with pytest.raises(LTSearchError) as err:
        get_method("kps").resolve({"m_max": 0.3, "mmax": 0.3}, where="config.yaml")
    assert str(err.value) == ("config.yaml: unknown parameter 'mmax' for method 'kps'; "
                              "allowed: m_max, s_base, n_base, ga, ga_start, margins")
    with pytest.raises(LTSearchError) as err:
        get_method("ce").resolve({"gamma": 2.0})
    assert str(err.value) == "method.params: unknown parameter 'gamma' for method 'ce'; allowed: none"


def test_defaults_read_the_datasets_preset():
    kps, lort = get_method("kps"), get_method("lort")
    assert kps.defaults("imagenet-lt") == {**DEFAULTS["kps"], "m_max": 0.35}
    assert kps.defaults("inat2018") == {**DEFAULTS["kps"], "m_max": 0.3}
    assert kps.defaults("cifar100-lt") == DEFAULTS["kps"]
    assert lort.defaults("imagenet-lt")["delta"] == 0.99 and lort.defaults("cifar100-lt")["delta"] == 0.98
    # a given value wins over the preset's, the preset's others stay
    assert kps.resolve({"ga": "off"}, dataset="imagenet-lt") == {**DEFAULTS["kps"], "m_max": 0.35, "ga": "off"}
    # the baselines inherit the KPS recipe of their dataset, never its method knobs
    assert get_method("focal").defaults("imagenet-lt") == {"gamma": 1.0}
    assert get_method("ce").defaults("cifar10-lt") == {}


@pytest.mark.parametrize("preset", list_presets())
def test_every_presets_knobs_are_valid_and_are_the_defaults(preset):
    name, dataset = preset.split("/")
    method = get_method(name)
    given = load_preset(preset)["config"]["method"].get("params") or {}
    assert method.defaults(dataset) == {**DEFAULTS[name], **given}
    assert method.resolve(given, dataset=dataset) == method.defaults(dataset)  # each paper value in range


def _config(name: str, epochs: int = 7, **params):
    return config_from_dict(tiny_config(name, epochs=epochs, **params))


@pytest.mark.parametrize("name", sorted(set(DEFAULTS) - {"lort"}))
def test_one_stage_methods_train_the_config_end_to_end(name):
    method = get_method(name)
    cfg = _config(name)
    params = method.resolve({}, dataset=cfg.dataset.name)
    (stage,) = method.stages(cfg, params, COUNTS, FEAT_DIM)
    assert method.stage_epochs(cfg, params) == [stage.epochs] == [7] and planned_epochs(cfg) == 7
    assert (stage.name, stage.train_part, stage.lr, stage.weight_decay, stage.batch_size) == ("train", "all", 0.1,
                                                                                              5e-4, 32)
    assert stage.schedule is cfg.schedule and stage.tta_flip is False


def test_lort_two_stages_sum_to_the_run():
    method = get_method("lort")
    cfg = _config("lort", stage2_epochs=3, stage2_lr=0.01, stage2_wd=1e-4, stage2_batch_size=128, bn="train",
                  tta_flip=False)
    params = method.resolve(cfg.method.params, dataset=cfg.dataset.name)
    stage1, stage2 = method.stages(cfg, params, COUNTS, FEAT_DIM)
    assert method.stage_epochs(cfg, params) == [stage1.epochs, stage2.epochs] == [7, 3]
    assert planned_epochs(cfg) == 10
    assert (stage1.name, stage1.train_part, stage1.lr, stage1.weight_decay, stage1.batch_size) == ("stage1", "all", 0.1,
                                                                                                   5e-4, 32)
    assert stage1.schedule is cfg.schedule
    assert (stage2.name, stage2.train_part, stage2.bn, stage2.tta_flip) == ("stage2", "head", "train", False)
    assert (stage2.lr, stage2.weight_decay, stage2.batch_size) == (0.01, 1e-4, 128)
    assert (stage2.schedule.name, stage2.schedule.warmup_epochs) == ("cosine", 0.0)
    # stage 1: plain CE; stage 2: label over-smoothing with delta
    z = torch.randn(6, len(COUNTS), generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 3, 0, 0])
    assert torch.allclose(stage1.criterion(z, y, None), F.cross_entropy(z, y), atol=1e-6)
    assert torch.allclose(stage2.criterion(z, y, None), F.cross_entropy(z, y, label_smoothing=0.98), atol=1e-6)


def test_lort_from_a_stage1_checkpoint_runs_stage2_only():
    method = get_method("lort")
    cfg = _config("lort", stage2_epochs=3, backbone="stage1.pt")
    params = method.resolve(cfg.method.params, dataset=cfg.dataset.name)
    stages = method.stages(cfg, params, COUNTS, FEAT_DIM)
    assert method.stage_epochs(cfg, params) == [s.epochs for s in stages[1:]] == [3]  # the trial skips stage 1
    assert planned_epochs(cfg) == 3


def _states(name: str, epochs: int = 10, **params) -> list[dict]:
    method = get_method(name)
    crit = method.criterion(method.resolve(params), COUNTS, FEAT_DIM)
    out = []
    for epoch in range(epochs):
        crit.on_epoch_start(epoch, epochs)
        out.append(crit.state())
    return out


def test_epoch_hooks_switch_at_their_fraction_of_the_run():
    assert [s["ga_active"] for s in _states("kps", ga_start=0.6)] == [0.0] * 6 + [1.0] * 4
    assert [s["ga_active"] for s in _states("kps", ga="off", ga_start=0.0)] == [0.0] * 10
    assert [s["drw"] for s in _states("ldam-drw", drw_start=0.8)] == [0.0] * 8 + [1.0] * 2
    assert [s["drw"] for s in _states("ldam-drw", epochs=5, drw_start=0.0)] == [1.0] * 5
    # LWR: lambda(t) of the chosen schedule, the step schedule's knobs passed through
    assert [s["lambda"] for s in _states("lwr", lambda_0=2.0)] == pytest.approx(
        [2.0 * (1 - t / 10) ** 2 for t in range(10)])
    assert [s["lambda"] for s in _states("lwr", lambda_0=2.0, lambda_schedule="step", lambda_milestone=0.25,
                                         lambda_gamma=0.5)] == pytest.approx([2.0] * 3 + [1.0] * 7)
    assert _states("ce", epochs=2) == [{}, {}]


def test_drw_reweights_the_loss_once_on():
    method = get_method("ldam-drw")
    crit = method.criterion(method.resolve({"drw_start": 0.5}), COUNTS, FEAT_DIM)
    z = torch.rand(8, len(COUNTS), generator=torch.Generator().manual_seed(1)) * 2 - 1  # cosine scores
    y = torch.tensor([0, 0, 0, 0, 1, 1, 2, 3])
    crit.on_epoch_start(0, 4)
    before = float(crit(z, y, None))
    crit.on_epoch_start(2, 4)
    after = float(crit(z, y, None))
    crit.on_epoch_start(1, 4)
    assert float(crit(z, y, None)) == pytest.approx(before)
    assert after != pytest.approx(before)


def test_lwr_adds_lambda_times_the_regulariser_of_the_head_weight():
    method = get_method("lwr")
    params = method.resolve({"lambda_schedule": "constant", "lambda_0": 0.5, "projection": False})
    crit = method.criterion(params, COUNTS, FEAT_DIM)
    crit.on_epoch_start(0, 10)
    g = torch.Generator().manual_seed(2)
    z, y = torch.randn(5, len(COUNTS), generator=g), torch.tensor([0, 1, 2, 3, 0])
    model = SimpleNamespace(head=SimpleNamespace(weight=torch.randn(len(COUNTS), FEAT_DIM, generator=g)))
    total = float(crit(z, y, model))
    assert total == pytest.approx(float(crit.loss(z, y)) + 0.5 * float(crit.regularizer(model.head.weight)), rel=1e-6)
    assert float(crit.regularizer(model.head.weight)) > 0


def test_a_conditional_knob_is_active_only_under_its_controllers_values():
    from ltsearch.methods import METHODS

    ga_start = METHODS.get("kps").params["ga_start"]
    assert [ga_start.is_active({"ga": g}) for g in ("column", "row", "off")] == [True, True, False]
    assert METHODS.get("kps").params["m_max"].is_active({"ga": "off"})  # unconditional

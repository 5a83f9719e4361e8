"""Search spaces: parsing, validation against the method registry, overlays, CLI overrides,
the define-by-run sampler (conditional knobs) and grids. No Ray here."""

from __future__ import annotations

import collections
import random

import optuna
import pytest
import yaml

from ltsearch.errors import LTSearchError
from ltsearch.methods import METHODS
from ltsearch.search.sampler import SpaceSampler, make_optuna_sampler
from ltsearch.search.space import (
    Dim,
    builtin_space_path,
    load_space,
    parse_space,
    space_template,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def write(tmp_path, text: str):
    p = tmp_path / "space.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_has_a_valid_builtin_space(method):
    assert builtin_space_path(method) is not None
    for dataset in ("digits-lt", "cifar10-lt", "cifar100-lt", "imagenet-lt"):
        sp = load_space(method, dataset=dataset)
        base = sp.base_config()
        point = sp.paper_point(base)
        cfg = sp.config_for(point, base)
        assert cfg["method"]["name"] == method
        METHODS.get(method).resolve(cfg["method"]["params"], dataset=dataset)


def test_kps_paper_defaults_per_dataset_and_overlays():
    cifar = load_space("kps", dataset="cifar10-lt")
    inet = load_space("kps", dataset="imagenet-lt")
    assert cifar.paper_point(cifar.base_config())["m_max"] == 0.5
    assert inet.paper_point(inet.base_config())["m_max"] == 0.35
    assert (inet.dim("m_max").low, inet.dim("m_max").high) == (0.2, 0.5)
    assert inet.base["model"]["name"] == "resnet50"
    digits = load_space("kps", dataset="digits-lt")
    assert digits.base["model"]["name"] == "resnet8" and digits.base["epochs"] <= 10
    assert digits.dim("ga").choices == ["column", "row", "off"]  # unquoted YAML 'off' is not False
    assert digits.dim("n_base").kind == "fixed" and digits.dim("n_base").value == 50


@pytest.mark.parametrize("body, needle", [
    ("params: {bogus: {type: float, low: 0, high: 1}}", "params.bogus: unknown parameter for method 'kps'"),
    ("params: {m_max: {type: float, low: 0.1, high: 3.0}}", "params.m_max: high 3 is outside the allowed range [0, 2]"),
    ("params: {m_max: {type: float, low: -0.1, high: 0.5}}", "low -0.1 is outside the allowed range [0, 2]"),
    ("params: {ga: {type: float, low: 0, high: 1}}", "params.ga: 'ga' is categorical"),
    ("params: {ga: {type: categorical, choices: []}}", "params.ga: choices must be a non-empty list"),
    ("params: {ga: {type: categorical, choices: [column, diagonal]}}", "use one of column, row, off"),
    ("params: {m_max: {type: float, low: 0, high: 0.5, log: true}}", "log scale needs low > 0"),
    ("params: {m_max: {type: float, low: 0.6, high: 0.5}}", "low 0.6 must be below high 0.5"),
    ("params: {m_max: {type: float, low: a, high: 0.5}}", "'low' must be a number"),
    ("params: {m_max: {type: gaussian}}", "type 'gaussian' is invalid"),
    ("params: {m_max: {type: float, lo: 0.1, high: 0.5}}", "unknown key 'lo'"),
    ("params: {n_base: {fixed: -3}}", "'n_base' = -3 is invalid; use ("),
    ("optim: {lr: {type: float, low: 0, high: 0.1, log: true}}", "optim.lr: low 0 is outside the allowed range (0, 10]"),
    ("optim: {speed: {fixed: 1}}", "optim.speed: unknown shared knob"),
    ("optim: {batch_size: {type: float, low: 16, high: 64}}", "is an integer"),
    ("params: {ga_start: {type: float, low: 0.1, high: 0.5, when: {ga: diagonal}}}", "never holds"),
    ("base: {optim: {lrr: 0.1}}", "unknown key 'optim.lrr'"),
    ("colour: red", "unknown key 'colour'"),
])
def test_invalid_space_gives_one_line_error_naming_file_and_key(tmp_path, body, needle):
    p = write(tmp_path, "method: kps\n" + body + "\n")
    with pytest.raises(LTSearchError) as err:
        load_space("kps", path=p)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(p) in msg
    assert needle in msg, msg


def test_method_mismatch_and_unknown_method(tmp_path):
    p = write(tmp_path, "method: lwr\nparams: {}\n")
    with pytest.raises(LTSearchError, match="'method' is 'lwr' but the search is for 'kps'"):
        load_space("kps", path=p)
    with pytest.raises(LTSearchError, match="unknown method"):
        load_space("nope")


def test_cli_overrides():
    sp = load_space("kps", params=["m_max=0.1:0.3", "s_base=8:32:log", "ga=column,off", "optim.lr=0.01:0.1:log"],
                    fixed=["n_base=20", "ga_start=0.5"])
    assert (sp.dim("m_max").low, sp.dim("m_max").high, sp.dim("m_max").log) == (0.1, 0.3, False)
    assert sp.dim("s_base").log
    assert sp.dim("ga").choices == ["column", "off"]
    assert sp.dim("optim.lr").low == 0.01 and sp.dim("optim.lr").log
    assert sp.dim("n_base").value == 20.0 and sp.dim("ga_start").value == 0.5
    lort = load_space("lort", params=["stage2_epochs=1:4"])
    assert lort.dim("stage2_epochs").kind == "int"
    with pytest.raises(LTSearchError, match=r"--param 'zeta=1:2': unknown parameter 'zeta'"):
        load_space("kps", params=["zeta=1:2"])
    with pytest.raises(LTSearchError, match="high 5 is outside the allowed range"):
        load_space("kps", params=["m_max=0.1:5"])
    with pytest.raises(LTSearchError, match="expected NAME=VALUES"):
        load_space("kps", params=["m_max"])


def test_conditional_params_sampled_only_when_active():
    sp = load_space("lwr", dataset="cifar100-lt")
    assert sp.dim("lambda_milestone").when == ("lambda_schedule", ("step",))
    sampler = SpaceSampler(sp)
    study = optuna.create_study(direction="maximize", sampler=make_optuna_sampler("random", 0))
    seen = collections.Counter()
    rng = random.Random(0)
    for _ in range(300):
        trial = study.ask()
        values = sampler.sample(trial)
        step = values["lambda_schedule"] == "step"
        assert ("lambda_milestone" in values) == step
        assert ("lambda_gamma" in values) == step
        assert set(trial.params) == set(values)  # Optuna saw exactly the active knobs
        seen[step] += 1
        study.tell(trial, rng.random())
    assert seen[True] > 20 and seen[False] > 20
    # TPE too (define-by-run keeps the conditional structure)
    tpe = optuna.create_study(direction="maximize", sampler=make_optuna_sampler("tpe", 0))
    for _ in range(40):
        trial = tpe.ask()
        values = sampler.sample(trial)
        assert ("lambda_milestone" in values) == (values["lambda_schedule"] == "step")
        tpe.tell(trial, rng.random())


def test_condition_on_fixed_controller_is_resolved_statically():
    on = load_space("lwr", fixed=["lambda_schedule=step"])
    assert on.dim("lambda_milestone").when is None
    off = load_space("lwr", fixed=["lambda_schedule=quadratic"])
    assert "lambda_milestone" not in [d.name for d in off.dims]
    cb = load_space("cb", fixed=["loss=softmax"])
    assert "gamma" not in [d.name for d in cb.dims]


def test_grid_respects_conditions_and_scales():
    sp = load_space("cb", params=["beta=0.9,0.99", "gamma=0.5:2:log"], fixed=["optim.lr=0.1",
                                                                             "optim.weight_decay=0.0002"])
    grid = sp.grid(points=3)
    # softmax: 2 betas; focal: 2 betas x 3 gammas
    assert len(grid) == 2 + 6
    assert all(("gamma" in g) == (g["loss"] == "focal") for g in grid)
    gammas = sorted({g["gamma"] for g in grid if "gamma" in g})
    assert gammas == [0.5, 1.0, 2.0]
    kps = load_space("kps")
    two = kps.grid(points=3, over=["optim.lr", "optim.weight_decay"], base_config=kps.base_config())
    assert len(two) == 9 and len({g["m_max"] for g in two}) == 1


def test_template_and_roundtrip(tmp_path):
    for method in ("kps", "lwr"):
        text = space_template(method)
        p = tmp_path / f"{method}.yaml"
        p.write_text(text)
        assert load_space(method, path=p).method == method
    sp = load_space("lwr")
    data = yaml.safe_load(sp.to_yaml())
    data.pop("dataset")
    back = parse_space(data, "roundtrip", method="lwr")
    assert [d.describe() for d in back.dims] == [d.describe() for d in sp.dims]


def test_paper_knob_recipe_and_circular_conditions(tmp_path):
    # {paper: true}: fixed at the dataset's recipe (its preset), never typed in the space
    lort = load_space("lort", dataset="imagenet-lt")
    assert lort.dim("bn").kind == "fixed" and lort.dim("bn").value == "frozen"
    assert lort.dim("stage2_epochs").value == 20
    # recipe: the preset a dataset without its own preset runs
    p = write(tmp_path, "method: ce\nrecipe: kps/imagenet-lt\nparams: {}\n")
    sp = load_space("ce", path=p, dataset="places-lt")
    assert sp.base["epochs"] == 180 and sp.base["schedule"]["warmup_epochs"] == 0
    assert "method" not in sp.base or not sp.base["method"].get("params")  # KPS's knobs stay KPS's
    p = write(tmp_path, "method: ce\nrecipe: kps/mnist\nparams: {}\n")
    with pytest.raises(LTSearchError, match="recipe: 'kps/mnist' is not a preset"):
        load_space("ce", path=p)
    p = write(tmp_path, "method: kps\nparams: {n_base: {paper: true, low: 2}}\n")
    with pytest.raises(LTSearchError, match="paper takes true alone"):
        load_space("kps", path=p)
    # controllers before dependents whatever the file order (graphlib), cycles named
    p = write(tmp_path, "method: cb\nparams:\n  gamma: {type: float, low: 0.5, high: 2, when: {loss: focal}}\n"
                        "  loss: {type: categorical, choices: [softmax, focal]}\n")
    assert [d.name for d in load_space("cb", path=p).searched][:2] == ["loss", "gamma"]
    p = write(tmp_path, "method: lwr\nparams:\n  projection: {type: categorical, choices: [true, false], "
                        "when: {lambda_schedule: step}}\n  lambda_schedule: {type: categorical, "
                        "choices: [step, quadratic], when: {projection: true}}\n")
    with pytest.raises(LTSearchError, match="circular"):
        load_space("lwr", path=p)


def test_grid_values_linear_log_int():
    from ltsearch.search.space import Dim
    assert Dim("a", "a", "float", low=0.0, high=1.0).grid_values(3) == [0.0, 0.5, 1.0]
    assert Dim("a", "a", "float", low=1e-4, high=1e-2, log=True).grid_values(3) == [1e-4, 1e-3, 1e-2]
    assert Dim("a", "a", "int", low=1, high=2).grid_values(5) == [1, 2]


def test_spread_equals_numpy_linspace_and_geomspace():
    """The grid's plain-Python spacing (no numpy on the bad-input path) is numpy's: linspace bit for bit,
    geomspace with its ends exact and within 1e-14 relative inside (numpy 2.4's logspace rounds its
    exponents and powers differently in the last bits, up to about 13 ulp of the result)."""
    import numpy as np

    from ltsearch.search.space import spread
    rng = random.Random(0)
    for _ in range(3000):
        log = rng.random() < 0.5
        if log:
            low = 10 ** rng.uniform(-8, 3)
            high = low * 10 ** rng.uniform(0, 6)
        else:
            low = rng.choice([rng.uniform(-100, 100), float(rng.randint(-50, 50))])
            high = low + rng.choice([rng.uniform(0, 100), 0.0])
        points = rng.randint(2, 40)
        ours = spread(low, high, points, log)
        theirs = (np.geomspace if log else np.linspace)(low, high, points).tolist()
        if not log:
            assert ours == theirs
            continue
        assert (ours[0], ours[-1]) == (theirs[0], theirs[-1]) == (low, high)
        assert ours == pytest.approx(theirs, rel=1e-14, abs=0), (low, high, points)


@pytest.mark.parametrize("text, value, end", [
    ("optim.weight_decay=1e-5:1e-3:log", 1.04e-5, "low"),  # P5's best KPS: 0.9 % of the log range
    ("optim.weight_decay=1e-5:1e-3:log", 1e-3, "high"),
    ("optim.lr=0.02:0.2:log", 0.0324, None),  # 21 % of the log range: inside
    ("optim.lr=0.02:0.2:log", 0.024, "low"),  # log10(1.2) = 7.9 % of a decade
    ("m_max=0.1:0.8", 0.16, "low"),  # linear: (0.16 - 0.1) / 0.7 = 8.6 %
    ("m_max=0.1:0.8", 0.18, None),  # 11.4 %
    ("m_max=0.1:0.8", 0.75, "high"),
])
def test_a_best_value_at_the_edge_of_its_range_is_noted(text, value, end):
    from ltsearch.search.space import edge_notes

    space = load_space("kps", dataset="cifar10-lt", params=[text])
    name = text.split("=")[0].removeprefix("method.params.")
    dim = space.dim(name)
    assert dim.edge(value) == end
    notes = edge_notes(space, {name: value})
    assert len(notes) == (end is not None)
    if end == "low" and dim.log:  # wider by sqrt(high / low) = 10 for 1e-5:1e-3, 3.16 for 0.02:0.2
        assert notes[0].endswith({"optim.weight_decay": "--param optim.weight_decay=1e-06:0.001:log",
                                  "optim.lr": "--param optim.lr=0.00632:0.2:log"}[name]), notes
    if end == "high" and not dim.log:
        assert notes[0].endswith("--param m_max=0.1:HIGH"), notes


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_space_file_is_refused(tmp_path, text):
    p = write(tmp_path, text)
    with pytest.raises(LTSearchError, match="empty search space; give at least 'method: kps' and 'params:'") as err:
        load_space("kps", path=p)
    assert str(p) in str(err.value)
    p = write(tmp_path, "method: kps\n")  # no knobs at all
    with pytest.raises(LTSearchError, match="no knobs to search: neither 'params' nor 'optim'"):
        load_space("kps", path=p)
    with pytest.raises(LTSearchError, match="no knobs to search"):
        load_space("kps", path=p, fixed=["optim.epochs=2"])  # what --epochs adds
    assert load_space("kps", path=p, params=["m_max=0.1:0.8"]).dim("m_max").low == 0.1  # knobs from --param


@pytest.mark.parametrize("body, needle", [
    # the user's case: ga is not searched, the recipe's ga is column, so ga_start was dropped silently
    ("params: {ga_start: {type: float, low: 0.4, high: 0.8, when: {ga: [row]}}}",
     "params.ga_start: when ga in ['row'] never holds: the space does not search ga, which is 'column' here; "
     "add params.ga"),
    ("params: {m_max: {type: float, low: 0.2, high: 0.8, when: {schedule: cosine}}}",
     "params.m_max: when optim.schedule in ['cosine'] never holds"),
])
def test_condition_on_an_unsearched_knob_that_never_holds_is_refused(tmp_path, body, needle):
    p = write(tmp_path, "method: kps\n" + body + "\n")
    with pytest.raises(LTSearchError) as err:
        load_space("kps", path=p)
    assert str(p) in str(err.value) and needle in str(err.value), err.value


def test_condition_on_an_unsearched_knob_is_decided_by_its_base_value(tmp_path):
    p = write(tmp_path, "method: kps\nparams: {ga_start: {type: float, low: 0.4, high: 0.8, when: {ga: [column]}}}\n")
    assert load_space("kps", path=p).dim("ga_start").when is None  # the recipe's ga is column: always active
    with pytest.raises(LTSearchError, match="params.gamma: when loss in \\['focal'\\] never holds"):
        load_space("cb", path=write(tmp_path, "method: cb\nparams: {gamma: {low: 0.5, high: 2}}\n"))  # registry's
    assert "gamma" not in [d.name for d in load_space("cb", fixed=["loss=softmax"]).dims]  # a fixed one decides


@pytest.mark.parametrize("key, hint", [("digit-lt", "did you mean digits-lt? "), ("mnist", ""), ("svhn*", "")])
def test_unknown_dataset_section_is_refused(tmp_path, key, hint):
    p = write(tmp_path, f"method: kps\nparams: {{m_max: {{type: float, low: 0.1, high: 0.8}}}}\n"
                        f"datasets: {{'{key}': {{params: {{m_max: {{low: 0.2, high: 0.3}}}}}}}}\n")
    with pytest.raises(LTSearchError) as err:
        load_space("kps", path=p)
    msg = str(err.value)
    assert msg.startswith(f"{p}: datasets.{key}: unknown dataset; {hint}use one of: cifar10-lt, cifar100-lt, digits-lt")
    p = write(tmp_path, "method: kps\nparams: {m_max: {type: float, low: 0.1, high: 0.8}}\n"
                        "datasets: {'cifar*': {params: {m_max: {low: 0.2, high: 0.3}}}}\n")
    assert load_space("kps", path=p, dataset="cifar100-lt").dim("m_max").high == 0.3  # a glob matching one


@pytest.mark.parametrize("top, section, needle", [
    ("m_max: {type: float, low: 0.1, high: 0.8}", "m_max: {low: 0.05, high: 0.9}",
     "params.m_max: float [0.05, 0.9] reaches outside the top-level params.m_max (float [0.1, 0.8])"),
    ("m_max: {type: float, low: 0.1, high: 0.8}", "m_max: 0.9", "params.m_max: fixed 0.9 reaches outside"),
    ("ga: [column, row]", "ga: [row, 'off']", "params.ga: one of row, off reaches outside the top-level params.ga"),
    ("ga: {type: categorical, choices: [column, row]}", "ga: {choices: [column, 'off']}", "one of column, off"),
    ("n_base: {paper: true}", "n_base: {low: 20, high: 80}", "(fixed 50.0)"),
])
def test_dataset_section_only_narrows(tmp_path, top, section, needle):
    p = write(tmp_path, f"method: kps\nparams: {{{top}}}\ndatasets: {{digits-lt: {{params: {{{section}}}}}}}\n")
    with pytest.raises(LTSearchError) as err:
        load_space("kps", path=p)
    assert str(err.value).startswith(f"{p}: datasets.digits-lt: params.") and needle in str(err.value), err.value
    assert "\n" not in str(err.value)
    assert load_space("kps", path=p, dataset="cifar10-lt").dims  # the section of another dataset is not applied


def test_dataset_section_narrowing_replacing_and_flags(tmp_path):
    p = write(tmp_path, "method: kps\nparams: {m_max: {type: float, low: 0.1, high: 0.8, log: true}, ga: [column, row]}\n"
                        "optim: {lr: {type: float, low: 0.02, high: 0.2}}\n"
                        "datasets:\n  digits-lt: {params: {m_max: {low: 0.2, high: 0.5}, ga: [row]},"
                        " optim: {lr: {low: 0.05, high: 0.1}}}\n"
                        "  imagenet-lt: {optim: {lr: {type: float, low: 0.005, high: 0.05}}}\n")
    sp = load_space("kps", path=p)
    m = sp.dim("m_max")
    assert (m.low, m.high, m.log) == (0.2, 0.5, True) and sp.dim("ga").choices == ["row"]
    assert (sp.dim("optim.lr").low, sp.dim("optim.lr").high) == (0.05, 0.1)
    assert load_space("kps", path=p, dataset="imagenet-lt").dim("optim.lr").low == 0.005  # type: replaces
    p.write_text(p.read_text().replace("{low: 0.2, high: 0.5}", "{low: 0.05, high: 0.9}"))
    assert load_space("kps", path=p, params=["m_max=0.05:0.9"]).dim("m_max").low == 0.05  # a flag replaces


@pytest.mark.parametrize("method", METHODS.names())
def test_every_builtin_space_loads_for_every_registered_dataset(method):
    from ltsearch.data import DATASETS

    for dataset in DATASETS.names():
        sp = load_space(method, dataset=dataset)
        assert sp.dataset == dataset and sp.dims


DIMS = [
    Dim("m_max", "method.params.m_max", "float", low=0.1, high=0.8),
    Dim("s_base", "method.params.s_base", "float", low=8.0, high=32.0, log=True),
    Dim("optim.weight_decay", "optim.weight_decay", "float", low=1e-5, high=1e-3, log=True),
    Dim("stage2_epochs", "method.params.stage2_epochs", "int", low=1, high=30),
    Dim("optim.batch_size", "optim.batch_size", "int", low=16, high=512, log=True),
    Dim("ga", "method.params.ga", "categorical", choices=["column", "row", "off"]),
    Dim("mixed", "method.params.mixed", "categorical", choices=[0.1, 2, True, "lin", "log"]),
    Dim("n_base", "method.params.n_base", "fixed", value=50.0),
    Dim("fixed_text", "method.params.fixed_text", "fixed", value="x  when y"),
    Dim("fixed_list", "schedule.milestones", "fixed", value=[0.8, 0.9]),
    Dim("fixed_none", "method.params.backbone", "fixed", value=None),
    Dim("fixed_bool", "tta_flip", "fixed", value=True),
]


@pytest.mark.parametrize("when", [None, ("ga", ("column", "row")), ("flag", (True,)), ("k", (2, 0.5))])
@pytest.mark.parametrize("dim", DIMS, ids=lambda d: d.name)
def test_describe_is_read_back_for_every_kind_of_knob(dim, when):
    """`Dim.from_description` reads what `Dim.describe` writes (the `space.<knob>` params of a search's MLflow
    parent run, which the heatmap reads the scale of): kind, log, when, bounds, choices and values."""
    import dataclasses

    dim = dataclasses.replace(dim, when=when)
    back = Dim.from_description(dim.name, dim.describe(), dim.path)
    assert back is not None
    assert (back.kind, back.log, back.when, back.low, back.high, back.choices, back.value) == \
        (dim.kind, dim.log, dim.when, dim.low, dim.high, dim.choices, dim.value)
    assert back.describe() == dim.describe() and back.path == dim.path


@pytest.mark.parametrize("text", ["", "float [0.1", "float [a, b]", "log", "one", "when x in [1]",
                                  "float [1, 2]  when x in [1", "float [1, 2] linear"])
def test_text_describe_never_writes_reads_back_as_none(text):
    assert Dim.from_description("k", text) is None

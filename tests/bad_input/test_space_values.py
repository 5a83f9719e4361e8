"""Search-space values rejected by ``search/space.py`` and the plan checks (``request.py::check_plan``):
unknown names, bounds outside a knob's range, conditions that never hold, grids too large, a grace
period longer than the run."""

from __future__ import annotations

import pytest

from .harness import check_case, text

CASES = [
    ("unknown-method-run", lambda t: ["run", "nope"], ["nope", "unknown method"]),
    ("unknown-dataset-run", lambda t: ["run", "kps", "--dataset", "nope-lt"], ["nope-lt"]),
    ("unknown-param", lambda t: ["run", "kps", "--param", "m_min=0:1"], ["m_min", "--param"]),
    ("unknown-fix", lambda t: ["run", "kps", "--fix", "optim.learning_rate=0.1"], ["learning_rate", "--fix"]),
    ("unknown-space-key", lambda t: ["run", "kps", "--space", text(t, "space.yaml", "method: kps\nparms: {}\n")],
     ["parms"]),
    ("lort-delta-ge-1", lambda t: ["run", "lort", "--param", "delta=0.5:1.0"], ["delta", "1"]),
    ("lort-delta-fix-1", lambda t: ["run", "lort", "--fix", "delta=1.2"], ["delta", "1.2"]),
    ("lwr-theta-high", lambda t: ["run", "lwr", "--fix", "theta=1.5"], ["theta", "1.5", "[-1, 1]"]),
    ("lwr-theta-low", lambda t: ["run", "lwr", "--param", "theta=-2:0.5"], ["theta", "-2", "[-1, 1]"]),
    ("kps-m-max-negative", lambda t: ["run", "kps", "--fix", "m_max=-0.1"], ["m_max", "-0.1", "[0, 2]"]),
    ("kps-n-base-1", lambda t: ["run", "kps", "--fix", "n_base=1"], ["n_base", "(1,"]),
    ("kps-n-base-space", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", "method: kps\nparams:\n  n_base: {type: float, low: 0.5, high: 10}\n")],
     ["space.yaml", "n_base", "0.5"]),
    ("low-above-high", lambda t: ["run", "kps", "--param", "m_max=0.8:0.1"], ["m_max", "0.8", "0.1"]),
    ("bound-inf", lambda t: ["run", "kps", "--param", "m_max=0.1:inf"], ["m_max"]),
    ("empty-choices", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", "method: kps\nparams:\n  ga: {type: categorical, choices: []}\n")], ["space.yaml", "ga", "choices"]),
    ("bad-choice", lambda t: ["run", "kps", "--param", "ga=column,diagonal"], ["ga", "diagonal"]),
    ("log-zero-low", lambda t: ["run", "kps", "--param", "optim.weight_decay=0:0.001:log"],
     ["weight_decay", "log", "low > 0"]),
    ("log-negative-low-space", lambda t: ["run", "lwr", "--space", text(
        t, "space.yaml", "method: lwr\nparams:\n  lambda_0: {type: float, low: 0, high: 10, log: true}\n")],
     ["space.yaml", "lambda_0", "log"]),
    ("space-bad-mode", lambda t: ["run", "kps", "--space", text(t, "space.yaml", "method: kps\nmode: sideways\n")],
     ["space.yaml", "sideways"]),
    ("param-no-value", lambda t: ["run", "kps", "--param", "m_max="], ["m_max"]),
    ("when-value-never-taken", lambda t: ["run", "lwr", "--space", text(
        t, "space.yaml", "method: lwr\nparams:\n  lambda_milestone: {type: float, low: 0.2, high: 0.8, "
                         "when: {lambda_schedule: nope}}\n")], ["space.yaml", "lambda_schedule", "nope", "never"]),
    ("when-shared-value-never-taken", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", "method: kps\nparams:\n  m_max: {type: float, low: 0.2, high: 0.8, "
                         "when: {schedule: sideways}}\n")], ["space.yaml", "schedule", "sideways", "never"]),
    ("unknown-model-space-base", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", "method: kps\nbase: {model: {name: resnet9000}}\n")], ["space.yaml", "resnet9000"]),
    ("grid-too-large", lambda t: ["run", "kps", "--search", "grid", "--grid-points", "100"],
     ["--search grid", "points", "10,000"]),
    ("rung-not-below-the-run", lambda t: ["run", "kps", "--epochs", "4", "--rungs", "5"],
     ["--rungs 5", "not below the run's 4 epochs"]),
    ("rung-fraction-rounds-to-the-run", lambda t: ["run", "kps", "--epochs", "4", "--rungs", "1,0.9"],
     ["--rungs 0.9 (of 4 epochs: 4)", "not below"]),
    ("grace-period-longer-than-run", lambda t: ["run", "kps", "--epochs", "2", "--scheduler", "asha", "--grace-period", "5"],
     ["--grace-period 5", "2 epochs"]),
]

# the user's reports: each of these ran a search (exit 0) before
_RUN = ["--trials", "1", "--epochs", "2"]
_KPS = "method: kps\nparams:\n  m_max: {type: float, low: 0.1, high: 0.8}\n"
CASES += [
    ("space-empty", lambda t: ["run", "kps", "--space", text(t, "space.yaml", b""), *_RUN],
     ["space.yaml", "empty search space", "'method: kps'", "'params:'"]),
    ("space-only-comments", lambda t: ["run", "kps", "--space", text(t, "space.yaml", "# nothing yet\n"), *_RUN],
     ["space.yaml", "empty search space"]),
    ("space-no-knobs", lambda t: ["run", "kps", "--space", text(t, "space.yaml", "method: kps\n"), *_RUN],
     ["space.yaml", "no knobs", "'params'"]),
    ("when-on-unsearched-knob", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", "method: kps\nparams:\n  ga_start: {type: float, low: 0.4, high: 0.8, when: {ga: [row]}}\n"),
        *_RUN], ["space.yaml", "params.ga_start", "when ga", "does not search ga", "add params.ga"]),
    ("unknown-dataset-section", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", _KPS + "datasets: {digit-lt: {params: {m_max: {low: 0.2, high: 0.3}}}}\n"), *_RUN],
     ["space.yaml", "datasets.digit-lt", "unknown dataset", "did you mean digits-lt?", "cifar10-lt"]),
    ("dataset-section-wider", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", _KPS + "datasets: {digits-lt: {params: {m_max: {low: 0.05, high: 0.9}}}}\n"), *_RUN],
     ["space.yaml", "datasets.digits-lt", "params.m_max", "[0.05, 0.9]", "[0.1, 0.8]", "only narrows"]),
    ("dataset-section-choices-not-subset", lambda t: ["run", "kps", "--space", text(
        t, "space.yaml", "method: kps\nparams: {ga: [column, row]}\ndatasets: {digits-lt: {params: {ga: [row, 'off']}}}\n"),
        *_RUN], ["space.yaml", "datasets.digits-lt", "params.ga", "one of row, off", "one of column, row"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_space_value_one_line_exit_2_writes_nothing(case, tmp_path):
    check_case(case, tmp_path)

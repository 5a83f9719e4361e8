"""Trial-config values rejected by ``config.py`` (types, ranges, registries' names) from a config file,
a preset or ``--set``, for ``train`` and ``run``: known before the first trial starts."""

from __future__ import annotations

import pytest

from .harness import cfg, check_case, text

CASES = [
    ("unknown-method-config", lambda t: ["train", "--config", cfg(t, **{"method.name": "nope"})], ["nope"]),
    ("unknown-dataset-config", lambda t: ["train", "--config", cfg(t, **{"dataset.name": "nope-lt"})], ["nope-lt"]),
    ("unknown-model-config", lambda t: ["train", "--config", cfg(t, **{"model.name": "nope"})],
     ["model.name", "nope", "resnet32"]),
    ("unknown-model-set-train", lambda t: ["train", "--config", cfg(t), "--set", "model.name=nope"],
     ["model.name", "nope"]),
    ("unknown-model-set-run", lambda t: ["run", "ce", "--set", "model.name=nope"], ["model.name", "nope"]),
    # ---- a bad --set of `ltsearch run` is blamed on that --set (not on the search base config / space file)
    ("set-blamed-run-config", lambda t: ["run", "kps", "--set", "optim.momentum=0.5", "--set", "epochs=0"],
     ["error: --set epochs=0: ", "epochs >= 1"]),
    ("set-blamed-run-model", lambda t: ["run", "ce", "--set", "model.name=nope"], ["error: --set model.name=nope: "]),
    ("set-blamed-run-knob-of-space", lambda t: ["run", "kps", "--set", "optim.lr=-1"],
     ["error: --set optim.lr=-1: ", "(0, 10]"]),
    ("set-blamed-run-method-param", lambda t: ["run", "kps", "--set", "method.params.m_max=0.3", "--set",
                                               "method.params.margins=both"],
     ["error: --set method.params.margins=both: ", "paper, code"]),
    ("set-blamed-run-unknown-param", lambda t: ["run", "kps", "--set", "method.params.nope=1"],
     ["error: --set method.params.nope=1: ", "unknown parameter 'nope'"]),
    ("unknown-config-key", lambda t: ["train", "--config", cfg(t, **{"optim.learning_rate": 0.1})],
     ["optim.learning_rate"]),
    ("unknown-set-key", lambda t: ["train", "--config", cfg(t), "--set", "optim.lrr=0.1"], ["optim.lrr"]),
    ("unknown-preset", lambda t: ["train", "--preset", "kps/mnist"], ["kps/mnist"]),
    # an empty file is no config (its defaults train ce with resnet32 for 200 epochs); a folder is no file
    ("empty-config", lambda t: ["train", "--config", text(t, "empty.yaml", "")], ["empty.yaml: an empty config"]),
    ("comments-only-config", lambda t: ["train", "--config", text(t, "c.yaml", "# nothing\n")], ["an empty config"]),
    ("config-is-a-folder", lambda t: ["train", "--config", "."], [".: is a folder; give a YAML file"]),
    ("train-unknown-param-names-the-file", lambda t: ["train", "--config", cfg(
        t, **{"method.name": "kps", "method.params": {"m_maxx": 0.5}})], ["c.yaml: ", "unknown parameter 'm_maxx'"]),
    ("train-set-value-names-the-flag", lambda t: ["train", "--config", cfg(t), "--set", "epochs=0"],
     ["c.yaml with --set epochs=0: ", "'epochs' = 0"]),
    ("kps-m-max-negative-config", lambda t: ["train", "--config", cfg(
        t, **{"method.name": "kps", "method.params": {"m_max": -0.5}})], ["m_max", "-0.5"]),
    ("ir-le-1-config", lambda t: ["train", "--config", cfg(t, **{"dataset.imbalance_ratio": 0.5})],
     ["imbalance_ratio", "0.5"]),
    ("ir-le-1-set", lambda t: ["train", "--config", cfg(t), "--set", "dataset.imbalance_ratio=1"], ["imbalance_ratio"]),
    ("ir-1e308-set", lambda t: ["train", "--config", cfg(t), "--set", "dataset.imbalance_ratio=1e308"],
     ["imbalance_ratio"]),
    ("negative-lr", lambda t: ["train", "--config", cfg(t), "--set", "optim.lr=-1"], ["optim.lr", "-1"]),
    ("lr-not-number", lambda t: ["train", "--config", cfg(t), "--set", "optim.lr=fast"], ["optim.lr", "fast"]),
    ("lr-nan", lambda t: ["train", "--config", cfg(t), "--set", "optim.lr=.nan"], ["optim.lr"]),
    ("lr-inf", lambda t: ["train", "--config", cfg(t), "--set", "optim.lr=.inf"], ["optim.lr"]),
    ("seed-huge-config", lambda t: ["train", "--config", cfg(t, seed=2**40)], ["seed", str(2**40)]),
    ("dataset-seed-negative", lambda t: ["train", "--config", cfg(t, **{"dataset.seed": -1})], ["dataset.seed"]),
    ("epochs-huge-set", lambda t: ["train", "--config", cfg(t), "--set", "epochs=1000000000"], ["epochs"]),
    ("set-without-equals", lambda t: ["train", "--config", cfg(t), "--set", "optim.lr"], ["--set", "key=value"]),
    ("huge-value-cut-short", lambda t: ["train", "--config", cfg(t), "--set", "optim.lr=" + "x" * 100_000],
     ["optim.lr", "..."]),
    ("huge-list-cut-short", lambda t: ["train", "--config", cfg(t), "--set",
                                       "schedule.milestones=[" + ",".join(["a"] * 20_000) + "]"],
     ["schedule.milestones", "..."]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_config_value_one_line_exit_2_writes_nothing(case, tmp_path):
    check_case(case, tmp_path)

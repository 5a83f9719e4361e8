"""Flags rejected on their own, before the space is read or any store is touched
(``search/request.py::check_request``, ``checks.py``, Click's parsing through ``cli/main.py``)."""

from __future__ import annotations

import pytest

from .harness import cfg, check_case

LONG = "a" * 300

CASES = [
    # ---- numbers: finite, in range --------------------------------------------------------------
    ("trials-zero", lambda t: ["run", "kps", "--trials", "0"], ["--trials", "0"]),
    ("trials-1e23", lambda t: ["run", "kps", "--trials", "1e23"], ["--trials", "int"]),
    ("trials-10e23-int", lambda t: ["run", "kps", "--trials", str(10**23)], ["--trials", "out of range"]),
    ("epochs-zero", lambda t: ["run", "kps", "--epochs", "0"], ["--epochs", "0"]),
    ("epochs-huge", lambda t: ["run", "kps", "--epochs", "1000000000"], ["--epochs", "1000000000"]),
    ("retries-negative", lambda t: ["run", "kps", "--retries", "-1"], ["--retries", "-1"]),
    ("cpus-nan", lambda t: ["run", "kps", "--cpus-per-trial", "nan"], ["--cpus-per-trial", "nan"]),
    ("cpus-inf", lambda t: ["run", "kps", "--cpus-per-trial", "inf"], ["--cpus-per-trial", "inf"]),
    ("cpus-negative", lambda t: ["run", "kps", "--cpus-per-trial", "-1"], ["--cpus-per-trial", "-1"]),
    ("cpus-more-than-machine", lambda t: ["run", "kps", "--cpus-per-trial", "4096"],
     ["--cpus-per-trial 4096", "this machine"]),
    ("gpus-negative", lambda t: ["run", "kps", "--gpus-per-trial", "-1"], ["--gpus-per-trial", "-1"]),
    ("gpus-nan", lambda t: ["run", "kps", "--gpus-per-trial", "nan"], ["--gpus-per-trial", "nan"]),
    ("gpus-inf", lambda t: ["run", "kps", "--gpus-per-trial", "inf"], ["--gpus-per-trial", "inf"]),
    ("gpus-without-gpu", lambda t: ["run", "kps", "--gpus-per-trial", "2"], ["--gpus-per-trial 2", "no GPU"]),
    ("gpus-half-without-gpu", lambda t: ["run", "kps", "--gpus-per-trial", "0.5"], ["--gpus-per-trial 0.5"]),
    ("gpus-fraction-above-1", lambda t: ["run", "kps", "--gpus-per-trial", "1.5"], ["--gpus-per-trial 1.5", "whole"]),
    ("reduction-factor-nan", lambda t: ["run", "kps", "--reduction-factor", "nan"], ["--reduction-factor", "nan"]),
    ("reduction-factor-inf", lambda t: ["run", "kps", "--reduction-factor", "inf"], ["--reduction-factor", "inf"]),
    ("reduction-factor-1", lambda t: ["run", "kps", "--reduction-factor", "1"], ["--reduction-factor", "> 1"]),
    ("imbalance-ratio-le-1", lambda t: ["run", "kps", "--imbalance-ratio", "1"], ["--imbalance-ratio", "1"]),
    ("imbalance-ratio-1e308", lambda t: ["run", "kps", "--imbalance-ratio", "1e308"], ["--imbalance-ratio", "1e+308"]),
    ("imbalance-ratio-nan", lambda t: ["run", "kps", "--imbalance-ratio", "nan"], ["--imbalance-ratio", "nan"]),
    ("grid-points-million", lambda t: ["run", "kps", "--search", "grid", "--grid-points", "1000000"],
     ["--grid-points", "1000000"]),
    ("max-concurrent-zero", lambda t: ["run", "kps", "--max-concurrent", "0"], ["--max-concurrent", "0"]),
    ("grace-period-zero", lambda t: ["run", "kps", "--grace-period", "0"], ["--grace-period", "0"]),
    # ---- seeds in the generators' range, each once ----------------------------------------------
    ("seed-huge", lambda t: ["run", "kps", "--seed", str(10**30)], ["--seed", "out of range"]),
    ("seed-negative", lambda t: ["run", "kps", "--seed", "-1"], ["--seed", "-1"]),
    ("seed-2-32", lambda t: ["run", "kps", "--seed", str(2**32)], ["--seed", "4294967296"]),
    ("seeds-huge", lambda t: ["train", "--config", cfg(t), "--seeds", f"0,{10**30}"], ["--seeds", "out of range"]),
    ("seeds-duplicate", lambda t: ["train", "--config", cfg(t), "--seeds", "0,0"], ["--seeds", "seed 0", "twice"]),
    ("seeds-not-numbers", lambda t: ["train", "--config", cfg(t), "--seeds", "0,x"], ["--seeds", "0,x"]),
    # ---- names: safe path components, short enough -----------------------------------------------
    ("name-traversal", lambda t: ["run", "kps", "--name", "../../evil"], ["--name", "../../evil"]),
    ("name-absolute", lambda t: ["run", "kps", "--name", "/tmp/evil"], ["--name", "/tmp/evil"]),
    ("name-dotdot", lambda t: ["run", "kps", "--name", ".."], ["--name"]),
    ("name-300-chars", lambda t: ["run", "kps", "--name", LONG], ["--name", "too long", "300"]),
    ("study-300-chars", lambda t: ["run", "kps", "--study", LONG], ["--study", "too long"]),
    ("study-slash", lambda t: ["run", "kps", "--study", "a/b"], ["--study", "a/b"]),
    # ---- choices and conflicts ------------------------------------------------------------------
    ("bad-search", lambda t: ["run", "kps", "--search", "bayes"], ["--search", "bayes"]),
    ("bad-scheduler", lambda t: ["run", "kps", "--scheduler", "pbt"], ["--scheduler", "pbt"]),
    ("warm-start-random", lambda t: ["run", "kps", "--search", "random", "--warm-start", "kps-old"],
     ["--warm-start", "--search random", "--search tpe"]),
    ("warm-start-traversal", lambda t: ["run", "kps", "--warm-start", "../x"], ["--warm-start", "../x"]),
    ("warm-start-no-store", lambda t: ["run", "kps", "-d", "digits-lt", "--warm-start", "kps-old", "--trials", "1",
                                       "--epochs", "1"], ["--warm-start kps-old", "no Optuna store"]),
    ("bad-figures", lambda t: ["run", "kps", "--figures", "some"], ["--figures", "some", "auto, all, best, none"]),
    ("figures-of-no-search", lambda t: ["figures", "--name", "nothing", "--storage-path", str(t)],
     ["nothing", "no ltsearch search there", "--storage-path"]),
    ("bad-val", lambda t: ["run", "kps", "--val", "train"], ["--val", "train"]),
    ("metric-on-test", lambda t: ["run", "kps", "--metric", "test/acc"], ["test/acc"]),
    ("metric-not-reported", lambda t: ["run", "kps", "--metric", "val/nope"], ["--metric", "val/nope", "val/acc"]),
    ("rungs-with-asha", lambda t: ["run", "kps", "--scheduler", "asha", "--rungs", "0.5"],
     ["--rungs", "--scheduler sh", "asha"]),
    ("brackets-with-none", lambda t: ["run", "kps", "--scheduler", "none", "--brackets", "2"],
     ["--brackets", "--scheduler sh"]),
    ("grace-period-with-sh", lambda t: ["run", "kps", "--grace-period", "2"], ["--grace-period", "asha", "--rungs"]),
    ("reduction-factor-with-none", lambda t: ["run", "kps", "--scheduler", "none", "--reduction-factor", "2"],
     ["--reduction-factor", "none"]),
    ("param-and-fix-one-knob", lambda t: ["run", "kps", "--param", "m_max=0.1:0.3", "--fix", "m_max=0.2"],
     ["--param m_max and --fix m_max", "once"]),
    ("param-twice", lambda t: ["run", "kps", "--param", "m_max=0.1:0.3", "--param", "m_max=0.2:0.4"],
     ["--param m_max and --param m_max"]),
    ("param-never-active", lambda t: ["run", "kps", "--fix", "ga=off", "--param", "ga_start=0.4:0.5"],
     ["--param ga_start=0.4:0.5", "no effect", "ga is column or row"]),
    ("epochs-and-set-epochs", lambda t: ["run", "kps", "--epochs", "2", "--set", "epochs=5"],
     ["--epochs 2", "--set epochs=5"]),
    ("grid-with-trials", lambda t: ["run", "kps", "--search", "grid", "--trials", "5"], ["--search grid", "--trials"]),
    ("config-and-preset", lambda t: ["train", "--config", cfg(t), "--preset", "kps/cifar10-lt"],
     ["--config", "--preset"]),
    ("neither-config-nor-preset", lambda t: ["train"], ["--config", "--preset"]),
    ("unknown-flag", lambda t: ["run", "kps", "--bogus", "1"], ["--bogus"]),
    ("flag-without-value", lambda t: ["run", "kps", "--trials"], ["--trials"]),
    ("train-epochs-zero", lambda t: ["train", "--config", cfg(t), "--epochs", "0"], ["--epochs", "0"]),
    ("leaderboard-bad-format", lambda t: ["leaderboard", "--dataset", "digits-lt", "--format", "pdf"],
     ["--format", "pdf"]),
    ("leaderboard-export-and-output", lambda t: ["leaderboard", "-d", "digits-lt", "--export", "-o", "x.md"],
     ["--export", "--output x.md"]),
    ("leaderboard-export-and-format", lambda t: ["leaderboard", "-d", "digits-lt", "--export", "-f", "csv"],
     ["--export", "--format csv"]),
    ("leaderboard-export-filtered", lambda t: ["leaderboard", "-d", "digits-lt", "--export", "--name", "kps-b",
                                               "--top", "1"], ["--export", "--name kps-b", "--top 1", "-o FILE"]),
    ("leaderboard-suffix-and-format", lambda t: ["leaderboard", "-d", "digits-lt", "-o", "lb.csv", "-f", "markdown"],
     ["--output lb.csv", "csv", "--format is markdown", "lb.md"]),
    # ---- heatmap axes: bounded grids ------------------------------------------------------------
    ("heatmap-axis-100M-points", lambda t: ["heatmap", "kps", "-d", "digits-lt", "--x", "m_max=0.1:0.8:100000000", "--y",
                                            "s_base=10,20"], ["--x", "points"]),
    ("heatmap-axis-nan", lambda t: ["heatmap", "kps", "-d", "digits-lt", "--x", "m_max=nan:0.8:3", "--y", "s_base=10,20"],
     ["--x", "finite"]),
    # ---- Ray cluster address ------------------------------------------------------------------------
    ("ray-address-malformed", lambda t: ["run", "kps", "--ray-address", "nohost"], ["--ray-address", "nohost"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_flag_one_line_exit_2_writes_nothing(case, tmp_path):
    check_case(case, tmp_path)


def test_real_entry_point_answers_one_line(tmp_path):
    """The installed entry (``python -m ltsearch.cli.main``) in a fresh interpreter, as a user runs it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    for argv, needle in ((["run", "kps", "--trials", "1e23"], "--trials"),
                         (["run", "kps", "--cpus-per-trial", "nan"], "--cpus-per-trial nan")):
        res = subprocess.run([sys.executable, "-m", "ltsearch.cli.main", *argv], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 2, res
        lines = (res.stdout + res.stderr).strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], lines
    assert list(tmp_path.iterdir()) == []

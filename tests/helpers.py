"""Plain helpers shared by several test packages (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys


def tiny_config(method: str = "ce", epochs: int = 2, **params) -> dict:
    """A trial config that trains in a few seconds on 2 CPU cores (digits-lt, ResNet-8)."""
    return {
        "dataset": {"name": "digits-lt", "imbalance_ratio": 10},
        "model": {"name": "resnet8"},
        "method": {"name": method, "params": params},
        "optim": {"lr": 0.1, "weight_decay": 5e-4, "batch_size": 32},
        "schedule": {"name": "multistep", "warmup_epochs": 0, "milestones": [0.8]},
        "epochs": epochs,
        "seed": 0,
        "device": "cpu",
    }


def cli_process(args, cwd, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    """``python -m ltsearch.cli.main ARGS`` in ``cwd``, in its own session (killable with its Ray),
    stdout and stderr on one text pipe, without the user's MLFLOW_TRACKING_URI / RAY_ADDRESS;
    ``env``: variables to set on top."""
    base = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base.pop("MLFLOW_TRACKING_URI", None)
    base.pop("RAY_ADDRESS", None)
    env = {**base, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "ltsearch.cli.main", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)

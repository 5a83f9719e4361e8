"""Relative paths mean the shell's folder, also inside Ray trials (whose working folder is their
trial folder): a search on an image-folder tree given as a relative ``--data-root``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_search_with_a_relative_data_root(tmp_path):
    from PIL import Image

    for split in ("train", "test"):
        for c in range(3):
            for i in range(4):
                path = tmp_path / "imgs" / split / f"class{c}" / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (32, 32), (40 * c, 30 * i, 90)).save(path)
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    res = subprocess.run(
        [sys.executable, "-m", "ltsearch.cli.main", "run", "ce", "--dataset", "imagefolder-lt", "--data-root", "imgs",
         "--set", "dataset.profile=none", "--set", "model.name=resnet8", "--set", "device=cpu",
         "--set", "optim.batch_size=4", "--epochs", "1", "--trials", "1", "--scheduler", "none", "--name", "rel",
         "--no-live"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string="tags.`ltsearch.kind` = 'trial'")
    assert [r.data.tags.get("ltsearch.status") for r in runs] == ["completed"], [r.data.tags for r in runs]
    assert runs[0].data.params.get("dataset.root") == "imgs"  # the record keeps the path as given

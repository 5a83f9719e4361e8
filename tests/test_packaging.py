"""Packaging: the built-in search spaces ship inside the wheel; a non-editable install works."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ltsearch").rglob("__init__.py")}
    assert tree | {"ltsearch.spaces"} == listed


@pytest.mark.slow
def test_wheel_installs_outside_the_repo_and_runs(tmp_path):
    """Build a wheel, install it in a fresh venv (system site packages for torch / ray / mlflow,
    --no-deps), then from a folder outside the repository: spaces list and a one-trial search."""
    whl = tmp_path / "whl"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(whl),
                    str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(whl.glob("ltsearch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ltsearch/spaces/kps.yaml" in names and "ltsearch/presets/kps/cifar10-lt.yaml" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI", "RAY_ADDRESS")}
    where = subprocess.run([str(py), "-c", "import ltsearch; print(ltsearch.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where, where  # the installed copy, not the checkout
    cli = [str(venv / "bin" / "ltsearch")]
    out = subprocess.run(cli + ["spaces", "list"], cwd=work, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "kps" in out.stdout and "(generated)" not in out.stdout.split("kps")[1][:80], out
    out = subprocess.run(cli + ["run", "ce", "--trials", "1", "--epochs", "1", "--scheduler", "none", "--no-live",
                                "--set", "model.name=resnet8", "--name", "wheel"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (work / "mlflow.db").is_file()

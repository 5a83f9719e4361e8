"""Shared fixtures: tiny fast trial configs on the embedded digits-lt data, and the CIFAR archive."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

SHARED_ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cifar10-jpg.tar.gz"


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


@pytest.fixture
def tiny():
    return tiny_config


@pytest.fixture(scope="session")
def cifar10_root(tmp_path_factory) -> Path:
    """The shared CIFAR-10 JPEG tree, extracted once into a cache folder (never into the repo)."""
    if not SHARED_ARCHIVE.is_file():
        pytest.skip("../shared/data/cifar10-jpg.tar.gz not present")
    cache = Path(os.environ.get("LTSEARCH_CACHE", Path.home() / ".cache" / "ltsearch")) / "cifar10-jpg"
    if not (cache / "test").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(SHARED_ARCHIVE) as tar:
            tar.extractall(cache, filter="data")
    return cache

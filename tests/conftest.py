"""Shared fixtures: one local Ray for the session, the digits-lt data, and the CIFAR archive (plain
helpers such as ``tiny_config`` are in helpers.py)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

SHARED_ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cifar10-jpg.tar.gz"


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray with 2 CPUs, started once for the session (a search started inside it joins it
    instead of starting its own) and shut down at the end."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def digits():
    """The digits-lt data the trials of a module share (loaded once per module, as run_trial's ``data``)."""
    from ltsearch.data import DatasetSpec, load_dataset

    return load_dataset(DatasetSpec(name="digits-lt", imbalance_ratio=10))


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

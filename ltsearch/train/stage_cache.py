"""Reuse across trials of decoupled methods: the stage-1 backbone and stage-2 features.

* Stage 1 is trained once per distinct stage-1 config (key: a hash of everything that
  determines stage 1) and stored under ``<cache_dir>/stage1/<key>.pt``; a file lock makes
  concurrent trials with the same key wait for the first one instead of training it twice.
* With frozen batch-norm, stage 2 is a linear layer on fixed backbone features: each
  stage-2 epoch's augmented features are computed once (the same augmentation stream and
  batches an uncached run sees) and stored under ``<cache_dir>/features/<key>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Callable

import torch
from filelock import FileLock

from ltsearch.config import flatten
from ltsearch.train.checkpoint import load_checkpoint, save_atomic

# Keys that never change the stage-1 backbone (only speed or reporting). ``amp`` is not one of them:
# bf16 autocast trains another backbone than fp32.
_NOT_IN_KEY = ("device", "compile", "eval_every", "tta_flip", "cache_dir", "channels_last")


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage1_key(cfg) -> str:
    """Hash of the config without the method's stage-2 knobs: a changed stage-1 knob means a new
    backbone, a changed stage-2 knob (delta, stage-2 lr / wd / epochs, bn) reuses it."""
    d = cfg.to_dict()
    for k in _NOT_IN_KEY:
        d.pop(k, None)
    d["method"] = {"name": d["method"]["name"]}  # stage 1 of a decoupled method ignores its params
    return _digest(d)


# what a run may change when it resumes: where and how fast it runs, how it is evaluated
_RUNTIME_KEYS = ("device", "compile", "eval_every", "tta_flip", "cache_dir", "amp", "channels_last",
                 "dataset.root", "dataset.download")


def config_key(cfg) -> str:
    """Hash of what a run trains (the config without :data:`_RUNTIME_KEYS`): a checkpoint resumes
    only the run of the same key (another ``--epochs`` or ``--set`` never continues it)."""
    return _digest({k: v for k, v in flatten(cfg.to_dict()).items() if k not in _RUNTIME_KEYS})


def data_key(cfg) -> str:
    """Hash of the config's data (split, seed, imbalance, augmentation): features cached from one
    backbone file are reused only on the same data."""
    return _digest(cfg.to_dict()["dataset"])


def file_key(path: str | Path) -> str:
    """Content hash of a user-given backbone checkpoint."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


@contextlib.contextmanager
def locked(path: Path):
    """An inter-process lock next to ``path`` (trials on one node share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        yield


class Stage1Cache:
    def __init__(self, cache_dir: str | Path, key: str):
        self.path = Path(cache_dir) / "stage1" / f"{key}.pt"

    def load(self) -> dict | None:
        return load_checkpoint(self.path) if self.path.is_file() else None

    def save(self, model_state: dict, history: list, evaluation: dict) -> None:
        save_atomic({"model": model_state, "history": history, "evaluation": evaluation}, self.path)


def evaluation_of(cfg) -> dict:
    """How a run evaluates: not in :func:`stage1_key` (the backbone is the same), but its history's
    val metrics depend on it."""
    return {"eval_every": cfg.eval_every, "tta_flip": cfg.tta_flip}


def history_for(hit: dict, cfg) -> list[dict]:
    """A cached stage 1's epochs for a run of ``cfg``: as they were when the run evaluates the same way,
    else without their val metrics (those of another evaluation would be reported as this run's)."""
    history = list(hit["history"])
    if hit.get("evaluation") == evaluation_of(cfg):
        return history
    return [{k: v for k, v in h.items() if not k.startswith(("val/", "best/"))} for h in history]


class FeatureCache:
    """Per-epoch stage-2 training features and the eval features, on disk, computed once."""

    def __init__(self, cache_dir: str | Path, key: str):
        self.dir = Path(cache_dir) / "features" / key

    def get(self, name: str, compute: Callable[[], tuple[torch.Tensor, torch.Tensor]], device) -> tuple:
        path = self.dir / f"{name}.pt"
        with locked(path):
            if path.is_file():
                saved = load_checkpoint(path, map_location=device)
                return saved["features"], saved["labels"]
            feats, labels = compute()
            save_atomic({"features": feats.cpu(), "labels": labels.cpu()}, path)
            return feats, labels

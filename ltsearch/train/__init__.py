"""The trial pipeline: ``run_trial(config, report=None, out_dir=None, resume=True, data=None)``.

The trial imports torch, so its names load on first use: ``ltsearch.train.schedules`` (the lr
schedule registry, read by the config checks) stays light.
"""

from importlib import import_module

from ltsearch.train.schedules import LR_SCHEDULES, lr_at

__all__ = ["run_trial", "planned_epochs", "resolve_config", "lr_at", "LR_SCHEDULES"]


def __getattr__(name: str):
    if name in ("run_trial", "planned_epochs", "resolve_config"):
        return getattr(import_module("ltsearch.train.trial"), name)
    raise AttributeError(f"module 'ltsearch.train' has no attribute {name!r}")

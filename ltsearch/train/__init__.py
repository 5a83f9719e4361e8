"""The trial pipeline: ``run_trial(config, report=None, out_dir=None, resume=True, data=None)``.

The trial imports torch, so ``run_trial`` loads on first use: ``ltsearch.train.schedules`` (the lr
schedule registry, read by the config checks) and ``ltsearch.train.plan`` (``resolve_config``,
``planned_epochs``: what a config will run) stay light.
"""

from importlib import import_module

from ltsearch.train.schedules import LR_SCHEDULES, lr_at

_HOME = {"run_trial": "trial", "resumed_epochs": "trial",  # torch
         # light, but it imports ltsearch.config, which imports ltsearch.train.schedules (this package)
         "planned_epochs": "plan", "resolve_config": "plan"}

__all__ = ["run_trial", "resumed_epochs", "planned_epochs", "resolve_config", "lr_at", "LR_SCHEDULES"]


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f"ltsearch.train.{_HOME[name]}"), name)
    raise AttributeError(f"module 'ltsearch.train' has no attribute {name!r}")

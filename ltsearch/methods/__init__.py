"""Method registry: ``METHODS.get("kps")`` -> :class:`Method` (head, stages, criterion, knobs).

Plain Python (no torch): the knobs, their ranges and defaults are checked before any heavy
import. The criteria (``nn.Module``s) live in :mod:`ltsearch.methods.criteria`;
``from ltsearch.methods import Criterion`` loads it (and torch) on first use.
"""

from importlib import import_module

# Importing the modules registers the methods (explicit list: no import-order surprises).
from ltsearch.methods import baselines, kps, lort, lwr  # noqa: E402,F401
from ltsearch.methods.base import Method, Param, Stage
from ltsearch.methods.registry import METHODS, get_method

__all__ = ["METHODS", "get_method", "Method", "Param", "Stage", "Criterion"]


def __getattr__(name: str):
    if name == "Criterion":  # an nn.Module: torch loads with it
        return import_module("ltsearch.methods.criteria").Criterion
    raise AttributeError(f"module 'ltsearch.methods' has no attribute {name!r}")

"""Method registry: ``METHODS.get("kps")`` -> :class:`Method` (head, stages, criterion, knobs)."""

from ltsearch.methods.base import Method, Param, Stage
from ltsearch.methods.registry import METHODS, get_method

# Importing the modules registers the methods (explicit list: no import-order surprises).
from ltsearch.methods import baselines, kps, lort, lwr  # noqa: E402,F401

__all__ = ["METHODS", "get_method", "Method", "Param", "Stage", "Criterion"]


def __getattr__(name: str):  # Criterion imports torch: loaded on first use only
    if name == "Criterion":
        from ltsearch.methods.criteria import Criterion

        return Criterion
    raise AttributeError(name)

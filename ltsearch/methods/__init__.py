"""Method registry: ``METHODS.get("kps")`` -> :class:`Method` (head, stages, criterion, knobs)."""

# Importing the modules registers the methods (explicit list: no import-order surprises).
from ltsearch.methods import baselines, kps, lort, lwr  # noqa: E402,F401
from ltsearch.methods.base import Criterion, Method, Param, Stage
from ltsearch.methods.registry import METHODS, get_method

__all__ = ["METHODS", "get_method", "Method", "Param", "Stage", "Criterion"]

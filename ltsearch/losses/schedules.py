"""lambda(t) schedules for the LWR weight -- papers/lwr-logit-weight-repulsion.txt eq. 7 (quadratic).

Each schedule is ``f(t, T, lambda_0=1.0, **kw) -> float`` with t the epoch and T the total epochs;
t/T is clamped to [0, 1].
"""

from __future__ import annotations

import math

from ltsearch.checks import check_range
from ltsearch.errors import LTSearchError
from ltsearch.registry import Registry

LAMBDA_SCHEDULES: Registry = Registry("lambda schedule")


def _frac(t, T) -> float:
    T = check_range("T", T, lo=0.0, lo_open=True)
    t = check_range("t", t)
    return min(max(t / T, 0.0), 1.0)


def _no_extra(name: str, kw: dict) -> None:
    if kw:
        raise LTSearchError(f"lambda schedule '{name}': unknown parameter(s) {', '.join(sorted(kw))}")


@LAMBDA_SCHEDULES.register("constant")
def constant(t, T, lambda_0: float = 1.0, **kw) -> float:
    """lambda_0 for every epoch (Table 4 '+R_LWR' with lambda = 1)."""
    _no_extra("constant", kw)
    _frac(t, T)
    return float(lambda_0)


@LAMBDA_SCHEDULES.register("quadratic")
def quadratic(t, T, lambda_0: float = 1.0, **kw) -> float:
    """lambda_0 (1 - t/T)^2, the paper's eq. 7."""
    _no_extra("quadratic", kw)
    return float(lambda_0) * (1.0 - _frac(t, T)) ** 2


@LAMBDA_SCHEDULES.register("linear")
def linear(t, T, lambda_0: float = 1.0, **kw) -> float:
    """lambda_0 (1 - t/T)."""
    _no_extra("linear", kw)
    return float(lambda_0) * (1.0 - _frac(t, T))


@LAMBDA_SCHEDULES.register("cosine")
def cosine(t, T, lambda_0: float = 1.0, **kw) -> float:
    """lambda_0 * 0.5 (1 + cos(pi t/T))."""
    _no_extra("cosine", kw)
    return float(lambda_0) * 0.5 * (1.0 + math.cos(math.pi * _frac(t, T)))


@LAMBDA_SCHEDULES.register("step")
def step(t, T, lambda_0: float = 1.0, milestone: float = 0.5, gamma: float = 0.1, **kw) -> float:
    """lambda_0 while t < milestone*T, then lambda_0 * gamma (milestone is a fraction of T)."""
    _no_extra("step", kw)
    milestone = check_range("milestone", milestone, lo=0.0, hi=1.0)
    gamma = check_range("gamma", gamma, lo=0.0)
    return float(lambda_0) if _frac(t, T) < milestone else float(lambda_0) * gamma


def lambda_at(name: str, t, T, lambda_0: float = 1.0, **kw) -> float:
    """Weight of schedule ``name`` at epoch t of T."""
    return LAMBDA_SCHEDULES.get(name)(t, T, lambda_0=lambda_0, **kw)


__all__ = ["LAMBDA_SCHEDULES", "lambda_at"]

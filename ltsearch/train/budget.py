"""A trial config at another budget: the *complete* schedule scaled to fewer (or more) epochs.

Every quantity counted in epochs scales with the budget; every quantity given as a fraction of
the run (lr milestones, KPS's GA start, LDAM-DRW's DRW start, LWR's lambda(t), which the epoch
hooks read as ``epoch / epochs``) keeps its place in the run. A decoupled method (LORT) keeps
its stage-1 : stage-2 ratio, each stage at least one epoch. The schedule-aware scheduler
(``--scheduler sh``) trains each rung at such a budget, so every rung compares configs after
their re-balancing phase.
"""

from __future__ import annotations

import copy

from ltsearch.config import flatten, unflatten
from ltsearch.methods import get_method
from ltsearch.train.plan import planned_epochs, resolve_config

# every key :func:`scale_to_budget` may change: the rest of a config is the same at every budget
SCALED_KEYS = ("epochs", "schedule.warmup_epochs", "method.params.stage2_epochs")


def with_budget_of(config: dict, other: dict) -> dict:
    """``config`` with the budget of ``other``: :data:`SCALED_KEYS` taken from ``other``, the rest
    (the searched knobs) from ``config``. A run of a lower sh rung with the search's full-budget
    config gives the run's config at the full budget: ``with_budget_of(scale_to_budget(c, b), c) == c``."""
    flat, theirs = flatten(config), flatten(other)
    for key in SCALED_KEYS:
        if key in theirs:
            flat[key] = theirs[key]  # in its place, so the config keeps its key order
        else:
            flat.pop(key, None)
    return unflatten(flat)


def scale_to_budget(config: dict, budget: int) -> dict:
    """``config`` (a full trial config dict) with its planned epochs scaled to ``budget``.

    The result's :func:`~ltsearch.train.planned_epochs` equals ``budget`` (for a two-stage method,
    at least 2). ``budget`` equal to the planned epochs returns an unchanged copy.
    """
    out = copy.deepcopy(config)
    total = planned_epochs(config)
    if budget == total:
        return out
    if budget < 1:
        raise ValueError(f"budget must be at least 1 epoch, got {budget}")
    cfg, params = resolve_config(copy.deepcopy(config))
    stages = get_method(cfg.method.name).stage_epochs(cfg, params)
    factor = budget / total
    sched = out.setdefault("schedule", {})
    warmup = float(sched.get("warmup_epochs", cfg.schedule.warmup_epochs))
    sched["warmup_epochs"] = round(warmup * factor, 6)
    if len(stages) == 1 and "stage2_epochs" not in params:
        out["epochs"] = int(budget)
        return out
    if len(stages) == 1:  # stage 2 only (from a given stage-1 checkpoint)
        out.setdefault("method", {}).setdefault("params", {})["stage2_epochs"] = int(budget)
        return out
    s1, s2 = stages
    budget = max(budget, 2)
    e1 = min(max(1, round(budget * s1 / (s1 + s2))), budget - 1)
    out["epochs"] = int(e1)
    out.setdefault("method", {}).setdefault("params", {})["stage2_epochs"] = int(budget - e1)
    return out

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
from typing import Any

from ltsearch.methods import get_method
from ltsearch.train.plan import planned_epochs, resolve_config

# every key :func:`scale_to_budget` may change: the rest of a config is the same at every budget
SCALED_KEYS = ("epochs", "schedule.warmup_epochs", "method.params.stage2_epochs")


def with_budget_of(config: dict, other: dict) -> dict:
    """``config`` with the budget of ``other``: :data:`SCALED_KEYS` taken from ``other``, the rest
    (the searched knobs) from ``config``; neither is changed. A run of a lower sh rung with the
    search's full-budget config gives the run's config at the full budget:
    ``with_budget_of(scale_to_budget(c, b), c) == c``."""
    out = copy.deepcopy(config)
    for key in SCALED_KEYS:
        path = key.split(".")
        value = _get(other, path)
        if value is not _MISSING:
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = copy.deepcopy(value)  # in its place, so the config keeps its key order
            continue
        parent = _get(out, path[:-1])
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        for depth in range(len(path) - 1, 0, -1):  # a section scale_to_budget added, empty again
            if _get(out, path[:depth]) == {} and _get(other, path[:depth]) is _MISSING:
                _get(out, path[:depth - 1]).pop(path[depth - 1])
    return out


_MISSING = object()


def _get(config: dict, path: list[str]) -> Any:
    """The value at ``path`` in ``config``, else :data:`_MISSING`."""
    node: Any = config
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


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
    sched = out.setdefault("schedule", {})
    warmup = float(sched.get("warmup_epochs", cfg.schedule.warmup_epochs))
    if len(stages) == 1:
        sched["warmup_epochs"] = round(warmup * budget / total, 6)
        if "stage2_epochs" not in params:
            out["epochs"] = int(budget)
        else:  # stage 2 only (from a given stage-1 checkpoint)
            out.setdefault("method", {}).setdefault("params", {})["stage2_epochs"] = int(budget)
        return out
    s1, s2 = stages
    budget = max(budget, 2)
    e1 = min(max(1, round(budget * s1 / (s1 + s2))), budget - 1)
    sched["warmup_epochs"] = round(warmup * e1 / s1, 6)  # the warm-up is stage 1's: it scales with it
    out["epochs"] = int(e1)
    out.setdefault("method", {}).setdefault("params", {})["stage2_epochs"] = int(budget - e1)
    return out

"""Hyperparameter importance (fANOVA) of a finished search, from its MLflow trial runs.

The runs of one budget only (:func:`budget_runs`): the largest at which at least
:data:`MIN_CONFIGS` configs finished, else the one with the most. Across budgets, a lower sh
rung's scaled ``epochs`` would pass for a knob and each config would count once per rung. The
trials are rebuilt as an in-memory Optuna study (``optuna.trial.create_trial``) whose
distributions are inferred from the values the search tried (numbers: float / int ranges,
log-scaled when positive and spanning two decades or more; anything else: categorical),
then ``optuna.importance.get_param_importances`` with ``FanovaImportanceEvaluator(seed=0)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ltsearch.errors import LTSearchError
from ltsearch.reports.fmt import higher_is_better, objective, short_key
from ltsearch.tracking import reader
from ltsearch.tracking.reader import parse_param

MIN_CONFIGS = 5  # fewer configs: fANOVA's importances are not meaningful (the parent's plot warns)
# config keys that are bookkeeping, never hyperparameters
_SKIP = {"seed", "device", "amp", "channels_last", "compile", "dataset.root", "dataset.download", "eval_every"}


def infer_distributions(values: dict[str, list[Any]]):
    """``{param: distribution}`` for the params that vary (constants carry no importance)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for key, vals in values.items():
        distinct = {repr(v) for v in vals}
        if len(distinct) < 2:
            continue
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None
                      and math.isfinite(v) for v in vals)
        if numeric:
            lo, hi = min(vals), max(vals)
            log = lo > 0 and hi / lo >= 100
            if all(isinstance(v, int) for v in vals):
                out[key] = IntDistribution(int(lo), int(hi), log=log)
            else:
                out[key] = FloatDistribution(float(lo), float(hi), log=log)
        else:
            choices = tuple(sorted({("null" if v is None else v if isinstance(v, (str, bool, int, float))
                                     else str(v)) for v in vals}, key=repr))
            out[key] = CategoricalDistribution(choices)
    return out


def _cat_value(v):
    return "null" if v is None else v if isinstance(v, (str, bool, int, float)) else str(v)


def importance_for_runs(runs: list[dict], metric: str = "val/acc", histories: dict | None = None) -> dict[str, float]:
    """fANOVA importances (sum to 1, largest first) over the finished ``runs`` (reader dicts)."""
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.importance import FanovaImportanceEvaluator

    points = []
    for run in runs:
        value, _ = objective(run, metric, (histories or {}).get(run["run_id"]))
        if value is None:
            continue
        params = {k: parse_param(v) for k, v in run["params"].items() if k not in _SKIP}
        points.append((params, float(value)))
    if len(points) < 2:
        raise LTSearchError(f"importance needs at least 2 finished trials with '{metric}'; found {len(points)}")
    keys = sorted(set().union(*(p.keys() for p, _ in points)))
    values = {k: [p.get(k) for p, _ in points] for k in keys}
    dists = infer_distributions(values)
    if not dists:
        raise LTSearchError("importance: no parameter varies across the search's trials")
    if len({v for _, v in points}) < 2:  # every trial scored the same: nothing explains anything
        return {short_key(k): 0.0 for k in sorted(dists)}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if higher_is_better(metric) else "minimize"
    study = optuna.create_study(direction=direction)
    for params, value in points:
        p = {}
        for k, d in dists.items():
            v = params.get(k)
            p[k] = _cat_value(v) if isinstance(d, CategoricalDistribution) else v
        study.add_trial(optuna.trial.create_trial(params=p, distributions=dists, value=value))
    try:
        imp = optuna.importance.get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except RuntimeError as err:  # e.g. zero variance within every tree
        if "variance" not in str(err):
            raise
        return {short_key(k): 0.0 for k in sorted(dists)}
    return {short_key(k): float(v) for k, v in sorted(imp.items(), key=lambda kv: (-kv[1], kv[0]))}


@dataclass(frozen=True)
class Basis:
    """The runs an importance rests on: ``configs`` runs at ``budget`` epochs of the search's ``full``."""

    configs: int
    budget: int | None
    full: int | None

    @property
    def warning(self) -> str | None:
        """Said beside the importances when they rest on fewer than :data:`MIN_CONFIGS` configs."""
        if self.configs >= MIN_CONFIGS:
            return None
        return (f"only {self} share a budget: importances from fewer than {MIN_CONFIGS} configs are not "
                f"meaningful; search more configs (--trials)")

    def __str__(self) -> str:
        text = f"{self.configs} config{'s' if self.configs != 1 else ''} at {self.budget} epochs"
        return text if self.budget == self.full else f"{text} of {self.full} (too few reached more)"


def budget_runs(runs: list[dict]) -> tuple[list[dict], Basis]:
    """The runs of the largest budget at which at least :data:`MIN_CONFIGS` runs finished, else of the
    budget with the most (the larger on a tie), and that basis. With sh the full budget holds the few
    configs its rungs promoted, and its first rung holds every config."""
    from ltsearch.reports.leaderboard import budget_of

    by_budget: dict[int | None, list[dict]] = {}
    for run in runs:
        by_budget.setdefault(budget_of(run)["epochs"], []).append(run)
    order = sorted(by_budget, key=lambda b: -1 if b is None else b, reverse=True)  # the largest first
    enough = [b for b in order if len(by_budget[b]) >= MIN_CONFIGS]
    budget = enough[0] if enough else max(order, key=lambda b: len(by_budget[b]))
    return by_budget[budget], Basis(len(by_budget[budget]), budget, order[0])


def importance_for_search(tracking_uri: str | None, experiment: str, search_name: str,
                          metric: str = "val/acc") -> tuple[dict[str, float], Basis]:
    """fANOVA importance ``{param: share}`` of search ``search_name`` in ``experiment``, and the runs
    it rests on.

    Uses the search's completed and ASHA-stopped trials (best epoch of ``metric``) of one budget
    (:func:`budget_runs`); method knobs are named without their ``method.params.`` prefix, other
    keys dotted.
    """
    runs = reader.trial_runs(experiment, tracking_uri, search=search_name)
    if not runs:
        raise LTSearchError(f"no finished trials of search '{search_name}' in experiment {experiment} "
                            f"({tracking_uri or 'default store'}); `ltsearch searches` lists the names")
    chosen, basis = budget_runs(runs)
    histories = reader.metric_histories([r["run_id"] for r in chosen], metric, tracking_uri)
    return importance_for_runs(chosen, metric, histories), basis

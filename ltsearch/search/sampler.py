"""A :class:`~ltsearch.search.space.SearchSpace` as an Optuna define-by-run function.

Conditional dimensions are suggested only when their controlling dimension took one of the
listed values, so Optuna (TPE) never sees a knob that does not act on the trial. Fixed
values are not sampled: the trainable adds them when it builds the trial config.
"""

from __future__ import annotations

from typing import Any

from ltsearch.search.space import Dim, SearchSpace


class SpaceSampler:
    """Picklable define-by-run callable for ``OptunaSearch(space=SpaceSampler(space))``."""

    def __init__(self, space: SearchSpace):
        self.dims: list[Dim] = list(space.searched)
        self._space = space

    def __call__(self, trial) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        for d in self.dims:
            if not self._space.active(d, values):
                continue
            values[d.name] = suggest(trial, d)
        return None

    def sample(self, trial) -> dict[str, Any]:
        """Same as calling, but returns the sampled values (for direct Optuna use)."""
        values: dict[str, Any] = {}
        for d in self.dims:
            if self._space.active(d, values):
                values[d.name] = suggest(trial, d)
        return values


def suggest(trial, d: Dim) -> Any:
    if d.kind == "float":
        return trial.suggest_float(d.name, float(d.low), float(d.high), log=d.log)
    if d.kind == "int":
        return trial.suggest_int(d.name, int(d.low), int(d.high), log=d.log)
    if d.kind == "categorical":
        return trial.suggest_categorical(d.name, list(d.choices or []))
    raise ValueError(f"dimension {d.name} is fixed and not sampled")


def distributions(space: SearchSpace) -> dict[str, Any]:
    """Optuna distributions of every searched dim (to record grid trials in a study)."""
    import optuna

    out: dict[str, Any] = {}
    for d in space.searched:
        if d.kind == "float":
            out[d.name] = optuna.distributions.FloatDistribution(float(d.low), float(d.high), log=d.log)
        elif d.kind == "int":
            out[d.name] = optuna.distributions.IntDistribution(int(d.low), int(d.high), log=d.log)
        else:
            out[d.name] = optuna.distributions.CategoricalDistribution(list(d.choices or []))
    return out


def make_optuna_sampler(kind: str, seed: int):
    """``tpe`` (seeded TPE, multivariate + grouped for conditional spaces) or ``random``."""
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, n_startup_trials=5)
        except TypeError:  # an Optuna without multivariate / group
            return optuna.samplers.TPESampler(seed=seed)

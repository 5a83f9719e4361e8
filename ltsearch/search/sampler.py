"""A :class:`~ltsearch.search.space.SearchSpace` sampled through an Optuna trial (ask-and-tell).

Conditional dimensions are suggested only when their controlling dimension took one of the
listed values, so Optuna (TPE) never sees a knob that does not act on the trial. Fixed
values are not sampled: the trainable adds them when it builds the trial config.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

from ltsearch.search.space import Dim, SearchSpace


class SpaceSampler:
    """Draws one config of a space from an Optuna trial (:class:`~ltsearch.search.study.Study` asks)."""

    def __init__(self, space: SearchSpace):
        self.dims: list[Dim] = list(space.searched)
        self._space = space

    def sample(self, trial) -> dict[str, Any]:
        """The searched values of one config; a conditional dim only where it is active."""
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


def _base_sampler(kind: str, seed: int):
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, n_startup_trials=5)
        except TypeError:  # an Optuna without multivariate / group
            return optuna.samplers.TPESampler(seed=seed)


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of the study's trial ``number`` (deterministic, distinct per trial).

    Hashed, not arithmetic: NumPy's Mersenne Twister gives strongly correlated first draws for
    seeds that differ by a constant step, which made every trial's first categorical the same.
    """
    digest = hashlib.sha256(f"ltsearch-trial:{int(seed)}:{int(number)}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


try:
    from optuna.samplers import BaseSampler as _BaseSampler
except ImportError:  # optuna is a dependency; this only keeps the module importable without it
    _BaseSampler = object


class TrialSeededSampler(_BaseSampler):
    """TPE / random whose random draws are seeded per trial from ``(seed, trial.number)``.

    Optuna numbers the trials of a study in its storage, so drivers that share one study (two
    ``ltsearch run --study NAME`` on a shared database) never draw the same random start-up
    points with the same ``--seed``, while a one-driver search stays reproducible. What TPE
    learns always comes from the study's trials in storage, i.e. from every driver's trials.
    """

    def __init__(self, kind: str, seed: int):
        self.kind, self.seed = kind, int(seed)
        self._per_trial: dict[int, object] = {}

    def __getstate__(self):
        return {"kind": self.kind, "seed": self.seed, "_per_trial": {}}

    def _for(self, trial):
        sampler = self._per_trial.get(trial.number)
        if sampler is None:
            sampler = self._per_trial[trial.number] = _base_sampler(self.kind, trial_seed(self.seed, trial.number))
        return sampler

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        sampler = self._per_trial.pop(trial.number, None) or _base_sampler(self.kind, self.seed)
        sampler.after_trial(study, trial, state, values)

    def reseed_rng(self):
        pass  # seeds come from (seed, trial number)


def make_optuna_sampler(kind: str, seed: int):
    """``tpe`` (seeded TPE, multivariate + grouped for conditional spaces) or ``random``, each
    seeded per trial (:class:`TrialSeededSampler`)."""
    return TrialSeededSampler("random" if kind == "random" else "tpe", seed)

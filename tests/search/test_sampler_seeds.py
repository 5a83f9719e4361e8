"""Per-trial sampler seeds must give independent draws (regression: arithmetic seeds made
the first draw of every trial's freshly seeded NumPy Mersenne Twister nearly the same)."""

import optuna
import pytest

from ltsearch.search.sampler import SpaceSampler, make_optuna_sampler
from ltsearch.search.space import load_space


@pytest.mark.parametrize("kind,n", [("random", 20), ("tpe", 5)])  # TPE: its random start-up trials
def test_first_draws_of_successive_trials_spread_over_the_range(kind, n):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space("kps", dataset="cifar10-lt")
    sampler = SpaceSampler(space)
    study = optuna.create_study(direction="maximize", sampler=make_optuna_sampler(kind, 0))
    first = sampler.dims[0]
    values = []
    for _ in range(n):
        trial = study.ask()
        values.append(sampler.sample(trial)[first.name])
        study.tell(trial, 0.0)
    span = (max(values) - min(values)) / (first.high - first.low)
    assert span > 0.5, (first.name, values)

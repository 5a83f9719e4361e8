"""Per-trial sampler seeds must give independent draws (regression: arithmetic seeds made
every trial's first categorical draw the same with a seeded NumPy Mersenne Twister)."""

import collections

import optuna

from ltsearch.search.sampler import SpaceSampler, make_optuna_sampler
from ltsearch.search.space import load_space


def test_random_startup_draws_cover_every_choice():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = SpaceSampler(load_space("kps", dataset="cifar10-lt"))
    for kind in ("random", "tpe"):
        study = optuna.create_study(direction="maximize", sampler=make_optuna_sampler(kind, 0))
        counts = collections.Counter()
        for _ in range(5 if kind == "tpe" else 30):  # TPE: its random start-up trials
            trial = study.ask()
            counts[sampler.sample(trial)["ga"]] += 1
            study.tell(trial, 0.0)
        if kind == "random":
            assert min(counts[c] for c in ("column", "row", "off")) >= 5, counts
        else:
            assert len(counts) >= 2, counts

"""The Optuna study of a search: storage, shared studies, the paper point, truthful trial states.

The driver asks the study for configs (define-by-run over the space, conditional knobs only when
active) and tells it what happened, in Optuna's own terms:

* a run that trained its full budget: ``COMPLETE`` with the search objective (the best-epoch
  value of ``--metric``);
* a config stopped early (ASHA, or not promoted by ``sh``): ``PRUNED``, its value the last
  intermediate value;
* a run that raised: ``FAIL``.

Intermediate values are the objective so far: with ASHA / no scheduler one per epoch (step =
epoch, the steps MLflow has); with ``sh`` one per rung (step = the rung's budget, the value its
rung run ended with). Every trial carries the user attributes ``ltsearch.search``,
``ltsearch.config_id``, ``ltsearch.mlflow_run_id`` and ``ltsearch.tune_trial_id`` (of its last
run), so optuna-dashboard, the leaderboard and Tune name the same trials.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy.exc

from ltsearch.errors import LTSearchError
from ltsearch.search.sampler import (
    SpaceSampler,
    distributions,
    make_optuna_sampler,
    suggest,
)
from ltsearch.search.space import SearchSpace, _same
from ltsearch.tracking import sqlite_path

ATTR_SEARCH = "ltsearch.search"
ATTR_CONFIG = "ltsearch.config_id"
ATTR_RUN = "ltsearch.mlflow_run_id"
ATTR_TUNE = "ltsearch.tune_trial_id"
ATTR_SPACE = "ltsearch.space"
ATTR_WARM = "ltsearch.warm_from"  # a trial copied from an earlier search's study (--warm-start)


def rdb_storage(url: str):
    """Optuna's RDBStorage; retried while another driver creates the tables of a fresh database."""
    import optuna

    for attempt in range(4):
        try:
            return optuna.storages.RDBStorage(url)
        except sqlalchemy.exc.SQLAlchemyError:
            if attempt == 3:
                raise
            time.sleep(1.0 + attempt)


def space_signature(space: SearchSpace) -> str:
    import optuna

    return json.dumps({"method": space.method, "metric": space.metric, "mode": space.mode,
                       "dims": {k: optuna.distributions.distribution_to_json(v)
                                for k, v in sorted(distributions(space).items())}}, sort_keys=True)


def warm_trials(storage, url: str, names: list[str], space: SearchSpace) -> list:
    """The finished trials (COMPLETE, PRUNED with their intermediate values) of the earlier searches'
    studies ``names``, as trials of ``space``: what TPE learns first (``--warm-start``). A trial
    with a knob this space does not search, or a value outside its (maybe narrower) range, is left
    out. The studies must search the same method, metric and mode."""
    import optuna

    dists, dims = distributions(space), {d.name: d for d in space.searched}
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    out = []
    for name in names:
        for t in _warm_source(storage, url, name, space).get_trials(deepcopy=False, states=states):
            if not t.params or not all(k in dims and dims[k].contains(v) for k, v in t.params.items()):
                continue
            out.append(optuna.trial.create_trial(
                state=t.state, value=t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
                params=dict(t.params), distributions={k: dists[k] for k in t.params},
                intermediate_values=dict(t.intermediate_values),
                user_attrs={ATTR_WARM: name, ATTR_CONFIG: t.user_attrs.get(ATTR_CONFIG)}))
    return out


def check_warm_sources(url: str, names: list[str], space: SearchSpace) -> None:
    """``--warm-start`` checked before the search writes anything: each study exists in ``url`` (a
    missing SQLite file is not created) and searched the same method, metric and mode."""
    if (db := sqlite_path(url)) is not None and not db.is_file():
        raise LTSearchError(f"--warm-start {names[0]}: no Optuna store at {url}, so no earlier search to start "
                            f"from; give an earlier search's name and its --optuna-storage")
    storage = rdb_storage(url)
    for name in names:
        _warm_source(storage, url, name, space)


def _warm_source(storage, url: str, name: str, space: SearchSpace):
    """The study of the earlier search ``name``, refused unless it searched ``space``'s method, metric, mode."""
    import optuna

    try:
        other = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise LTSearchError(f"--warm-start {name}: no study of that name in {url}; give an earlier search's "
                            f"name (`ltsearch searches` lists them) and its --optuna-storage") from None
    theirs = json.loads(other.user_attrs.get(ATTR_SPACE) or "{}")
    for key, value in {"method": space.method, "metric": space.metric, "mode": space.mode}.items():
        if theirs.get(key, value) != value:
            raise LTSearchError(f"--warm-start {name}: that search has {key} {theirs[key]}, this one {value}; "
                                f"warm-start from a search of the same {key}")
    return other


def _measured(point: dict, trials: list) -> bool:
    """Whether one of ``trials`` ran ``point``."""
    return any(t.params.keys() == point.keys() and all(_same(t.params[k], v) for k, v in point.items())
               for t in trials)


class Study:
    """One search's view of an Optuna study (its own, or one shared by several drivers)."""

    def __init__(self, url: str, name: str, space: SearchSpace, search: str, kind: str, seed: int):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.url, self.name, self.space, self.search = url, name, space, search
        self.storage = rdb_storage(url)
        self.sampler = make_optuna_sampler("random" if kind == "grid" else kind, seed)
        self.values_of = SpaceSampler(space)
        self.study = optuna.load_study(study_name=name, storage=self.storage, sampler=self.sampler)
        self._sid = self.storage.get_study_id_from_name(name)

    # ---- creation ---------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, name: str, space: SearchSpace, search: str, kind: str, seed: int,
             paper_point: dict | None, shared: bool, fresh: bool, warm: list[str] | None = None) -> "Study":
        """Create the study (enqueueing the paper point once) or join the existing one.

        Creation is atomic in the storage (unique study name): of several drivers started on one
        ``--study`` exactly one creates it and enqueues the paper point. A fresh search with a
        study of its own first drops a stale study of the same name. ``warm``: earlier searches
        whose finished trials the new study starts with (:func:`warm_trials`); the paper point is
        not enqueued again when one of them ran it.
        """
        import optuna

        storage = rdb_storage(url)
        if fresh and not shared:
            try:
                optuna.delete_study(study_name=name, storage=storage)
            except KeyError:
                pass
        signature = space_signature(space)
        earlier = warm_trials(storage, url, list(warm), space) if warm else []
        try:
            study = optuna.create_study(storage=storage, study_name=name,
                                        direction="maximize" if space.mode == "max" else "minimize")
            study.set_user_attr(ATTR_SPACE, signature)
            study.add_trials(earlier)
            if paper_point and kind != "grid" and not _measured(paper_point, earlier):
                study.enqueue_trial(paper_point)
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=name, storage=storage)
            theirs = study.user_attrs.get(ATTR_SPACE)
            if theirs is not None and theirs != signature:
                raise LTSearchError(f"--study {name}: that study searches another space (method, metric, mode "
                                    f"or ranges differ); join it with the same method and space flags, or use "
                                    f"another --study") from None
        return cls(url, name, space, search, kind, seed)

    # ---- asking -----------------------------------------------------------------------
    def ask(self, fixed: dict | None = None) -> tuple[int, dict]:
        """A new trial: ``(number, values)``; ``fixed`` (a grid point) pins the values it names."""
        if fixed is not None:
            self.study.enqueue_trial(fixed, skip_if_exists=False)
        trial = self.study.ask()
        if fixed is not None:
            dims = {d.name: d for d in self.space.searched}
            values = {k: suggest(trial, dims[k]) for k in fixed if k in dims}
            values.update({k: v for k, v in fixed.items() if k not in dims})
        else:
            values = self.values_of.sample(trial)
        self._attr(trial.number, ATTR_SEARCH, self.search)
        return trial.number, values

    # ---- telling ----------------------------------------------------------------------
    def _tid(self, number: int) -> int:
        return self.storage.get_trial_id_from_study_id_trial_number(self._sid, number)

    def _attr(self, number: int, key: str, value: Any) -> None:
        self.storage.set_trial_user_attr(self._tid(number), key, value)

    def link(self, number: int, config_id: str, run_id: str | None, tune_id: str | None) -> None:
        self._attr(number, ATTR_CONFIG, config_id)
        if run_id:
            self._attr(number, ATTR_RUN, run_id)
        if tune_id:
            self._attr(number, ATTR_TUNE, tune_id)

    def report(self, number: int, step: int, value: float) -> None:
        """An intermediate value (the objective so far) at ``step``; once per step."""
        try:
            self.storage.set_trial_intermediate_value(self._tid(number), int(step), float(value))
        except RuntimeError:  # the trial is already finished (a late report)
            pass

    def finish(self, number: int, state: str, value: float | None = None) -> None:
        """Tell the final state: ``complete`` (with ``value``), ``pruned`` or ``fail``. Idempotent."""
        import optuna

        states = {"complete": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED,
                  "fail": optuna.trial.TrialState.FAIL}
        frozen = self.storage.get_trial(self._tid(number))
        if frozen.state.is_finished():
            return
        if state == "complete" and value is None:
            state = "fail"
        if state == "pruned" and not frozen.intermediate_values:
            state = "fail"  # stopped before its first report: nothing to learn from
        self.study.tell(number, value if state == "complete" else None, state=states[state])

    def orphans(self, known: set[int]) -> None:
        """Fail this search's RUNNING trials that its state never recorded (asked, then killed)."""
        import optuna

        for t in self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if t.user_attrs.get(ATTR_SEARCH) == self.search and t.number not in known:
                self.study.tell(t.number, state=optuna.trial.TrialState.FAIL)

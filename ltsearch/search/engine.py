"""The search driver: ``run_search(SearchRequest) -> SearchResult``, a script of named steps.

1. ``prepare`` (:mod:`ltsearch.search.prepare`): validate the request, build the space and the base
   trial config (writes nothing, imports nothing heavy);
2. load the dataset once on the driver (shared with trials through Ray's object store);
3. ``_open_state``, ``_open_parent``, ``_open_study``: the search's state file first (so a kill
   from the first second can be resumed), then the MLflow parent run and the Optuna study;
4. ``_dispatch``: one Tune run in which the :class:`~ltsearch.search.dispatch.Dispatcher` hands
   out the runs (resumed ones first, new configs from the study, sh promotions) and the
   :class:`~ltsearch.search.dispatch.Ledger` records them; ASHA on ``epoch`` when asked;
5. ``_reconcile`` and the recorder's ``close_parent``: after any stop, every record agrees with the trial folders,
   no run is left RUNNING, and the parent gets the summary once, when the search completes.

The objective everywhere is :func:`~ltsearch.search.trainable.objective_key`: the best-epoch
value of ``--metric``. Resume state is the plain JSON of :mod:`ltsearch.search.state`; Tune's
pickled experiment state is never read back.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ltsearch.config import config_from_dict, dump_yaml
from ltsearch.data import DatasetSpec, load_dataset
from ltsearch.data.profiles import shot_groups
from ltsearch.errors import LTSearchError
from ltsearch.fileio import write_atomic
from ltsearch.search.dispatch import (
    Dispatcher,
    Ledger,
    planned_sh_epochs,
    trial_dir_name,
)
from ltsearch.search.driver import (
    RayStart,
    SearchInterrupted,
    quiet_libraries,
    signals_as_interrupts,
)
from ltsearch.search.faults import fault_point
from ltsearch.search.prepare import prepare
from ltsearch.search.progress import Progress
from ltsearch.search.recorder import Recorder, live_figures
from ltsearch.search.request import OPTUNA_DB, REDUCTION_FACTORS, SearchRequest, longest_run, rung_budgets
from ltsearch.search.resources import default_gpus_per_trial
from ltsearch.search.resume import adopt, latest_search, saved_flags
from ltsearch.search.space import SearchSpace, edge_notes
from ltsearch.search.state import LEGACY_REDUCTION_FACTOR, SearchState
from ltsearch.search.study import Study, check_warm_sources
from ltsearch.search.trainable import TrialPlan, objective_key, search_trial
from ltsearch.tracking import experiment_name
from ltsearch.tracking.reader import read_artifact_text
from ltsearch.tracking.writer import TrackingWriter, resolve_tracking_uri, store_dir


@dataclass
class TrialSummary:
    """One config of the search and what became of it (its run at the highest rung reached)."""

    trial_id: str  # the config id (t003)
    status: str  # completed (its full budget) | stopped (early) | failed | pending | running
    params: dict  # sampled values
    metric: float | None  # the objective: best-epoch value of the search metric
    epochs: int | None  # epochs of its last run
    metrics: dict  # final metrics of its last run
    run_id: str | None = None
    failure: str | None = None
    rung: int = 0
    number: int | None = None  # Optuna trial number


@dataclass
class SearchResult:
    name: str
    method: str
    dataset: str
    experiment: str
    metric: str
    mode: str
    dims: list[str]
    trials: list[TrialSummary]
    best_trial_id: str | None
    best_params: dict | None
    best_config: dict | None
    best_metric: float | None
    best_metrics: dict
    best_run_id: str | None
    parent_run_id: str
    tracking_uri: str
    storage_dir: str
    optuna_storage: str | None
    study_name: str | None
    scheduler: str = "none"
    epochs_consumed: int = 0
    full_epochs: int = 0  # epochs to train every config at its full budget
    elapsed_s: float = 0.0
    experiment_id: str | None = None
    edges: list = field(default_factory=list)  # the best config's knobs at an end of their range (edge_notes)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.trials:
            out[t.status] = out.get(t.status, 0) + 1
        return out


# ---- the script -------------------------------------------------------------------------
def run_search(req: SearchRequest) -> SearchResult:
    """Run (or resume) one search; returns its configs and the best one."""
    t0 = time.monotonic()
    space, base = prepare(req)
    experiment = experiment_name(space.dataset, base["dataset"].get("imbalance_ratio"))
    storage = Path(req.storage_path).expanduser().resolve()
    name, state = _find(req, storage, experiment)
    adopted = adopt(req, state)  # the flags it started with, where the request leaves them at their defaults
    if adopted is not req:
        req = adopted
        space, base = prepare(req)
        experiment = experiment_name(space.dataset, base["dataset"].get("imbalance_ratio"))
    _check_same_search(req, name, state, experiment)
    folder = storage / name
    max_t = longest_run(space, base)
    if req.warm_start and state is None:  # refused before the search writes or starts anything
        check_warm_sources(_optuna_storage(req, resolve_tracking_uri(req.tracking_uri)), req.warm_start, space)
    quiet_libraries()
    with signals_as_interrupts(name) as signals:  # from the first second: Ctrl-C is never ignored
        ray_start = RayStart(req)  # Ray's processes start while the data, MLflow and Optuna load (bench P1)
        opened = None
        try:
            fault_point("start")
            data = _load_data(base)
            _metric_group_check(space.metric, data)
            grid = _grid(req, space, base)
            state = opened = _open_state(req, space, folder, name, experiment, state, max_t, grid)
            req = replace(req, reduction_factor=state.reduction_factor)  # a resume keeps the search's factor
            plan = TrialPlan(space=space, base_config=base, trials_dir=str(folder / "trials"),
                             cpus_per_trial=req.cpus_per_trial, cache_dir=str(storage / "cache"))
            tracking_uri = resolve_tracking_uri(req.tracking_uri)
            recorder = Recorder(TrackingWriter(tracking_uri), experiment, name, space.method, plan, req.seed,
                                req.scheduler, data.val_protocol, figures=req.figures)
        except BaseException as err:
            signals.acknowledge()
            ray_start.abandon()
            if not isinstance(err, KeyboardInterrupt) and signals.signum is None:
                raise
            if opened is not None:  # no MLflow run yet: the state file alone says it stopped
                opened.status = "stopped"
                opened.save(folder)
            raise SearchInterrupted(name, signals.signum or signal.SIGINT, saved=state is not None) from None
        study, own_ray = None, False
        save = lambda: state.save(folder)  # noqa: E731
        try:
            fault_point("open")
            _open_parent(recorder, req, space, base, state, max_t)
            state.parent_run_id = recorder.parent_id
            save()
            study = _open_study(req, space, base, state, tracking_uri, name)
            _reconcile(state, recorder, study, plan, save)
            fault_point("ray")
            own_ray = ray_start.result()
            signals.arm()
            progress = Progress(f"{name}: {space.method} on {experiment} ({req.search}, {req.scheduler})",
                                objective_key(space.metric), space.mode, [d.name for d in space.searched],
                                _planned_epochs(state, req, max_t), live=req.display)
            kept = state.sessions > 1 and req.search != "grid" and req.trials != state.configs
            progress.message(f"search {name}: {state.configs} configs"
                             + (" (the search's own count: a resume does not change --trials)" if kept else "")
                             + f", scheduler {req.scheduler}, "
                             f"budgets {state.budgets}"
                             + _keep_note(req, state)
                             + f"; MLflow {tracking_uri}")
            try:
                _dispatch(req, space, grid, state, study, plan, recorder, progress, data, folder, save)
            finally:
                progress.stop(state)
        except BaseException as err:
            signals.acknowledge()
            own_ray = own_ray or ray_start.settle()
            # after a signal, whatever ends the search is its stop (a library may wrap the signal's exception)
            if isinstance(err, KeyboardInterrupt) or signals.signum is not None:
                _stop(state, recorder, save, "stopped", own_ray)
                raise SearchInterrupted(name, signals.signum or signal.SIGINT) from None
            _stop(state, recorder, save, "failed", own_ray)
            raise
    _reconcile(state, recorder, study, plan, save)
    result = _result(space, base, state, recorder, plan, study, tracking_uri, folder)
    result.elapsed_s = time.monotonic() - t0
    fault_point("close")
    state.status = "completed"
    save()
    recorder.draw_best(state.latest().get(result.best_trial_id) if result.best_trial_id else None)
    recorder.close_parent(_summary(result), result.best_run_id, result.best_config, "completed", space.metric)
    return result


# ---- the steps ----------------------------------------------------------------------------
def _find(req: SearchRequest, storage: Path, experiment: str) -> tuple[str, SearchState | None]:
    """The search's name and, when it exists, its saved state (``--resume`` or a rerun of an
    unfinished search under the same name)."""
    name = req.name
    if req.resume and name is None:
        name = latest_search(storage, f"{req.method}-{experiment}")
        if name is None:
            raise LTSearchError(f"--resume: no search of {req.method} on {experiment} under {storage}; "
                                f"give --name of the search to resume")
    name = name or _default_name(req, experiment)
    folder = storage / name
    state = SearchState.load(folder)
    if req.resume and state is None:
        raise LTSearchError(f"--resume: no search named '{name}' under {storage}; check --name and --storage-path")
    if state is None and folder.exists() and any(folder.iterdir()):
        raise LTSearchError(f"{folder} exists but holds no ltsearch search; use another --name or --storage-path")
    if state is not None and state.status == "completed" and not req.resume:
        raise LTSearchError(f"search '{name}' already exists under {storage} and is complete; use another --name")
    if state is not None and state.method != req.method:
        _check_same_search(req, name, state, experiment)
    return name, state


def _check_same_search(req: SearchRequest, name: str, state: SearchState | None, experiment: str) -> None:
    """The search under ``name`` is this method on this experiment, with this scheduler."""
    if state is None:
        return
    if state.method != req.method or state.experiment != experiment:
        raise LTSearchError(f"--name {name}: that search is {state.method} on {state.experiment}; resume it "
                            f"with the same method and dataset, or use another --name")
    if state.scheduler != req.scheduler:
        raise LTSearchError(f"--resume: search '{name}' runs --scheduler {state.scheduler}; resume it with "
                            f"the same scheduler")


def _keep_note(req: SearchRequest, state: SearchState) -> str:
    """The header's ``, keep 1 in N``: only where a rung halves (sh with a lower rung, or ASHA)."""
    if req.scheduler == "asha" or (req.scheduler == "sh" and len(state.budgets) > 1):
        return f", keep 1 in {req.reduction_factor:g}"
    if req.scheduler == "sh":
        return " (no lower rung: every config trains the full budget)"
    return ""


def _grid(req: SearchRequest, space: SearchSpace, base: dict) -> list[dict] | None:
    """``--search grid``'s points, once for the state's count and the dispatcher (dims left out of
    ``--grid-over`` at their paper value); None for a sampled search."""
    if req.search != "grid":
        return None
    return space.grid(req.grid_points, over=req.grid_over, values=req.grid_values, base_config=base)


def _open_state(req, space, folder: Path, name: str, experiment: str, state: SearchState | None,
                max_t: int, grid: list[dict] | None = None) -> SearchState:
    """The state file, written before anything else (a search killed in its first second resumes)."""
    folder.mkdir(parents=True, exist_ok=True)
    space_text = space.to_yaml()
    if state is None:
        configs = len(grid) if grid is not None else req.trials
        # brackets of one config each have nothing to rank at a lower rung: they train the full budget at once
        budgets = rung_budgets(max_t, req.rungs) if req.scheduler == "sh" and configs > req.brackets else [max_t]
        factor = req.reduction_factor or REDUCTION_FACTORS.get(req.scheduler)
        state = SearchState(name=name, method=space.method, experiment=experiment, scheduler=req.scheduler,
                            configs=configs, budgets=budgets, brackets=req.brackets if req.scheduler == "sh" else 1,
                            reduction_factor=factor, request=saved_flags(req, factor))
        write_atomic(folder / "space.yaml", space_text)
    else:
        saved = folder / "space.yaml"
        if saved.is_file() and not saved.is_symlink() and (before := saved.read_text()) != space_text:
            fix = ("resume with the same --space/--param/--fix/--set/--epochs flags" if state.request is None else
                   "its flags are the same, so its space file or the method's built-in space changed since: "
                   "restore it")
            raise LTSearchError(f"--resume: search '{name}' started with another space ({_first_change(before, space_text)}; "
                                f"see {saved}); {fix}, or start a new search with another --name")
    if state.reduction_factor is None:
        state.reduction_factor = LEGACY_REDUCTION_FACTOR
    state.status = "running"
    state.sessions += 1
    state.save(folder)
    return state


def _first_change(before: str, now: str) -> str:
    """Where two space files part, as ``was 'epochs: 4', now 'epochs: 6'`` (the flag to look at)."""
    import difflib

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before.splitlines(), now.splitlines()).get_opcodes():
        if tag != "equal":
            old = " / ".join(x.strip() for x in before.splitlines()[i1:i2][:2]) or "nothing"
            new = " / ".join(x.strip() for x in now.splitlines()[j1:j2][:2]) or "nothing"
            return f"was {old!r}, now {new!r}"
    return "the same lines in another order"


def _open_parent(recorder: Recorder, req, space, base, state, max_t) -> None:
    existing = recorder.find_parent()
    if existing is not None and state.parent_run_id not in (None, existing) and state.sessions == 1:
        raise LTSearchError(f"search '{state.name}' already has an MLflow run in experiment {state.experiment}; "
                            f"use another --name")
    if existing is not None:
        _check_same_base(recorder, existing, state.name, base, state.request is None)
    recorder.open_parent(_space_params(space, req, max_t, state), space.to_yaml(), dump_yaml(base))


def _check_same_base(recorder: Recorder, parent_id: str, name: str, base: dict, legacy: bool = True) -> None:
    before = read_artifact_text(parent_id, "base_config.yaml", recorder.writer.uri)
    if before is not None and before != dump_yaml(base):
        fix = ("resume with the same --set/--epochs flags" if legacy else
               "its flags are the same, so the method's preset or its space file changed since: restore it")
        raise LTSearchError(f"--resume: search '{name}' started with another base config (see its base_config.yaml "
                            f"in MLflow); {fix}, or start a new search with another --name")


def _open_study(req, space, base, state: SearchState, tracking_uri: str, name: str) -> Study:
    url = _optuna_storage(req, tracking_uri)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    state.study = req.study or name
    return Study.open(url, state.study, space, name, req.search, req.seed, space.paper_point(base),
                      shared=bool(req.study), fresh=state.sessions == 1 and not state.runs, warm=req.warm_start)


def _reconcile(state: SearchState, recorder: Recorder, study: Study | None, plan: TrialPlan, save) -> None:
    """Make MLflow and Optuna agree with the state and the trial folders after any stop."""
    recorder.drop_unknown(set(state.runs))
    if study is not None:
        study.orphans({r.number for r in state.runs.values() if r.number is not None})
    ledger = Ledger(state, study, recorder, plan.space.metric, plan.space.mode, save)
    for rec in state.ordered():
        if rec.status in ("completed", "stopped", "failed"):
            if rec.status == "completed" and not rec.final:
                rec.final = recorder.final_of(rec)
            if rec.status == "failed":
                ledger.fail(rec, rec.failure or "failed")
            else:
                ledger.complete(rec, rec.status == "completed")
        elif rec.run_id is not None:
            recorder.sync_epochs(rec)


def _dispatch(req, space, grid, state, study, plan, recorder, progress, data, folder: Path, save) -> None:
    """One Tune run over the remaining work."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    dispatcher = Dispatcher(state, study, plan, recorder, grid, req.reduction_factor, save, progress)
    ledger = Ledger(state, study, recorder, space.metric, space.mode, save, progress)
    resources = ray.cluster_resources()
    gpus = req.gpus_per_trial
    if gpus is None:
        gpus = default_gpus_per_trial(plan.base_config.get("model", {}).get("name", ""), resources.get("GPU", 0))
    if gpus == 0 and str(plan.base_config.get("device", "auto")).startswith("cuda"):
        raise LTSearchError("--set device=cuda needs --gpus-per-trial > 0")
    max_t = max(state.budgets)
    concurrent = req.max_concurrent or _slots(resources, req.cpus_per_trial, gpus)
    _decide_figures(req, recorder, progress, resources, min(concurrent, state.configs))
    if req.scheduler == "asha" and max_t > req.grace_period:
        scheduler = ASHAScheduler(time_attr="epoch", metric=objective_key(space.metric), mode=space.mode, max_t=max_t,
                                  grace_period=req.grace_period, reduction_factor=req.reduction_factor)
    else:
        scheduler = FIFOScheduler()
    trainable = tune.with_resources(tune.with_parameters(search_trial, plan=plan, data=data),
                                    {"cpu": req.cpus_per_trial, "gpu": gpus})
    tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(
        search_alg=dispatcher, scheduler=scheduler, num_samples=-1, max_concurrent_trials=concurrent,
        trial_name_creator=trial_dir_name, trial_dirname_creator=trial_dir_name, reuse_actors=True),
        run_config=tune.RunConfig(name=f"session-{state.sessions}", storage_path=str(folder / "tune"),
                                  callbacks=[ledger], verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=req.retries)))
    tuner.fit()


def _decide_figures(req, recorder: Recorder, progress, resources: dict, concurrent: int) -> None:
    """``--figures auto``: each run's figures as it finishes when the trials leave a CPU free, else
    the best run's at the end (drawing on a full machine slows the trials: bench P1)."""
    if req.figures == "none":
        return
    recorder.live = live_figures(req.figures, resources.get("CPU", 0), concurrent, req.cpus_per_trial)
    if not recorder.live:
        progress.message(f"figures: the best run's, at the end (the trials use every CPU); `ltsearch figures "
                         f"--name {recorder.name}` draws the others")


def _slots(resources: dict, cpus: float, gpus: float) -> int:
    """Runs that fit the cluster at once (Tune keeps that many started; a custom searcher would
    otherwise get one pending run at a time)."""
    n = int(resources.get("CPU", 1) // cpus) if cpus else 1
    if gpus:
        n = min(n, int(resources.get("GPU", 0) // gpus))
    return max(1, n)


def _stop(state: SearchState, recorder: Recorder, save, status: str, own_ray: bool) -> None:
    """After Ctrl-C / SIGTERM / an error: runs cut off are KILLED, the parent is stopped or failed,
    and a local Ray this search started is shut down (its trials with it)."""
    if own_ray:
        import ray

        ray.shutdown()
    try:
        for rec in state.runs.values():
            if rec.status == "running":
                recorder.interrupted(rec)
        state.status = status
        save()
        recorder.close_parent(None, None, None, status)
    except Exception as err:  # the store itself may be what failed
        logging.getLogger(__name__).warning("could not mark the search %s: %s", status, err)


def _result(space, base, state: SearchState, recorder: Recorder, plan: TrialPlan, study, tracking_uri: str,
            folder: Path) -> SearchResult:
    key = objective_key(space.metric)
    summaries = []
    for cid, rec in state.latest().items():
        summaries.append(TrialSummary(trial_id=cid, status=state.config_status(rec), params=rec.values,
                                      metric=rec.objective, epochs=rec.epochs, metrics={**rec.final, key: rec.objective}
                                      if rec.objective is not None else dict(rec.final), run_id=rec.run_id,
                                      failure=rec.failure, rung=rec.rung, number=rec.number))
    pool = [s for s in summaries if s.status == "completed" and s.metric is not None and math.isfinite(s.metric)]
    best = (max if space.mode == "max" else min)(pool, key=lambda s: s.metric) if pool else None
    full = sum(plan.full_budget(s.params) for s in summaries)
    return SearchResult(
        name=state.name, method=space.method, dataset=space.dataset, experiment=state.experiment, metric=space.metric,
        mode=space.mode, dims=[d.name for d in space.searched], trials=summaries,
        best_trial_id=best.trial_id if best else None, best_params=best.params if best else None,
        best_config=space.config_for(best.params, base) if best else None, best_metric=best.metric if best else None,
        best_metrics=dict(best.metrics) if best else {}, best_run_id=best.run_id if best else None,
        parent_run_id=recorder.parent_id, tracking_uri=tracking_uri, storage_dir=str(folder),
        optuna_storage=study.url if study is not None else None, study_name=state.study if study is not None else None,
        scheduler=state.scheduler, epochs_consumed=state.epochs_consumed(), full_epochs=full,
        experiment_id=recorder.experiment_id, edges=edge_notes(space, best.params) if best else [])


def _summary(result: SearchResult) -> dict[str, float]:
    counts = result.counts
    out: dict[str, Any] = {f"trials/{k}": counts.get(k, 0) for k in ("completed", "stopped", "failed")}
    out["trials/total"] = len(result.trials)
    out["epochs_consumed"] = result.epochs_consumed
    out["epochs_fraction"] = result.epochs_consumed / max(1, result.full_epochs)
    out["elapsed_s"] = result.elapsed_s
    for k, v in result.best_metrics.items():
        if isinstance(v, (int, float)) and (k.startswith(("val/", "test/", "best/", "last/")) or k == "epochs_run"):
            out[k] = v
    return out


def _planned_epochs(state: SearchState, req, max_t: int) -> int:
    """Epochs the search will train if nothing fails (ASHA: the most it can train)."""
    if state.scheduler != "sh":
        return state.configs * max_t
    return planned_sh_epochs(state.configs, state.brackets, state.budgets, req.reduction_factor)


# ---- helpers ------------------------------------------------------------------------------
def _default_name(req: SearchRequest, experiment: str) -> str:
    return f"{req.method}-{experiment}-{time.strftime('%Y%m%d-%H%M%S')}"


def _metric_group_check(metric: str, data) -> None:
    m = re.fullmatch(r"(?:best/)?val/(many|medium|few)", metric)
    if not m or data is None:
        return
    try:
        groups = shot_groups(data.train_counts)
    except Exception:
        return
    if not groups.get(m.group(1)):
        raise LTSearchError(f"--metric {metric}: this dataset has no {m.group(1)}-shot classes (train counts "
                            f"{min(data.train_counts)}..{max(data.train_counts)}); use val/acc or another group")


def _load_data(base: dict):
    cfg = config_from_dict(base, where="search base config")
    return load_dataset(DatasetSpec.from_config(cfg.dataset))


def _optuna_storage(req: SearchRequest, tracking_uri: str) -> str:
    if req.optuna_storage:
        return req.optuna_storage
    return f"sqlite:///{(store_dir(tracking_uri) / OPTUNA_DB).resolve()}"


def _space_params(space: SearchSpace, req: SearchRequest, max_t: int, state: SearchState) -> dict[str, Any]:
    """The parent run's params: the space, the request, and the configs and budgets of the state
    (a grid's size, sh's budgets as the search planned them)."""
    out: dict[str, Any] = {f"space.{d.name}": d.describe() for d in space.dims}
    out.update({"search": req.search, "sampler": {"tpe": "optuna-tpe", "random": "optuna-random",
                                                  "grid": "grid"}[req.search],
                "scheduler": req.scheduler, "metric": space.metric, "mode": space.mode, "trials": state.configs,
                "seed": req.seed, "space_file": space.source, "max_epochs": max_t})
    if req.scheduler == "asha":
        out.update({"asha.grace_period": req.grace_period, "asha.reduction_factor": req.reduction_factor,
                    "asha.time_attr": "epoch", "objective": objective_key(space.metric)})
    if req.scheduler == "sh":
        out.update({"sh.reduction_factor": req.reduction_factor,
                    "sh.brackets": state.brackets,
                    "sh.budgets": ",".join(map(str, state.budgets))})
    out["objective"] = objective_key(space.metric)
    if req.search == "grid":
        out["grid_points"] = req.grid_points
    return out



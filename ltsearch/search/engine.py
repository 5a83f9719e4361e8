"""The search driver: ``run_search(SearchRequest) -> SearchResult``.

Order of work (nothing is written before the inputs are known to be valid):
  1. parse and validate the space and the request (LTSearchError, exit 2);
  2. load the dataset once on the driver (shared with trials through the object store);
  3. start / join Ray, open the MLflow parent run, the Optuna study;
  4. run (or restore) the Tuner: OptunaSearch (TPE / random, define-by-run, paper point
     first) or a grid; ASHA on ``epoch``; one MLflow child run per trial (driver callback);
  5. reconcile MLflow with Tune's final state, log the best result on the parent run.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltsearch.config import config_from_dict, dump_yaml
from ltsearch.errors import LTSearchError
from ltsearch.search.request import OPTUNA_DB, SearchRequest, check_request
from ltsearch.search.resources import default_gpus_per_trial
from ltsearch.search.space import SearchSpace, load_space
from ltsearch.search.trainable import LAST_EPOCH_KEY, TrialPlan, planned_total, sampled_values

@dataclass
class TrialSummary:
    trial_id: str
    status: str  # completed | stopped | failed | pending | running
    params: dict  # sampled values
    metric: float | None  # last value of the search metric
    epochs: int | None
    metrics: dict  # last reported metrics (final ones for completed trials)
    run_id: str | None = None
    failure: str | None = None


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

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.trials:
            out[t.status] = out.get(t.status, 0) + 1
        return out


# ---------------------------------------------------------------------------------------
def _trial_name(trial) -> str:
    return trial.trial_id


def prepare(req: SearchRequest) -> tuple[SearchSpace, dict]:
    """Validate the request and build the space and the base trial config (writes nothing)."""
    check_request(req)
    fixed = list(req.fixed)
    if req.epochs is not None:
        fixed.append(f"optim.epochs={req.epochs}")
    if isinstance(req.space, SearchSpace):
        space = req.space
    else:
        space = load_space(req.method, path=req.space, dataset=req.dataset, params=req.params, fixed=fixed,
                           metric=req.metric)
        pinned = _sets_on_dims(space, req.sets)
        if pinned:  # `--set method.params.bn=frozen` on a knob of the space fixes that knob
            space = load_space(req.method, path=req.space, dataset=req.dataset, params=req.params,
                               fixed=fixed + pinned, metric=req.metric)
    if req.mode is not None:
        if req.mode not in ("max", "min"):
            raise LTSearchError(f"--mode {req.mode!r} is invalid; use max or min")
        space.mode = req.mode
    overrides: dict[str, Any] = {"dataset": {"val": req.val}, "seed": req.seed}
    if req.imbalance_ratio is not None:
        overrides["dataset"]["imbalance_ratio"] = float(req.imbalance_ratio)
    if req.data_root is not None:
        overrides["dataset"]["root"] = str(req.data_root)
    if req.epochs is not None:
        overrides["epochs"] = int(req.epochs)
    base = space.base_config(overrides)
    if req.sets:
        from ltsearch.config import apply_overrides

        base = apply_overrides(base, req.sets, flag="--set")
    if base.get("cache_dir") is None and "://" not in str(req.storage_path):
        # decoupled methods: one stage-1 backbone (and stage-2 features) per distinct stage-1 config
        base["cache_dir"] = str(Path(req.storage_path).expanduser().resolve() / "cache")
    cfg = config_from_dict(space.config_for(space.paper_point(base), base), where="search base config")
    from ltsearch.methods import get_method

    get_method(space.method).resolve(cfg.method.params, dataset=space.dataset, where="search base config")
    if req.search == "grid":
        grid = space.grid(req.grid_points, over=req.grid_over, values=req.grid_values, base_config=base)
        if not grid or grid == [{}]:
            raise LTSearchError(f"{space.source}: nothing to grid over; search at least one parameter "
                                f"(--param NAME=LOW:HIGH)")
    return space, base


def _sets_on_dims(space: SearchSpace, sets: list[str]) -> list[str]:
    """``--set`` overrides that name a knob of the space, as ``--fix`` entries (the user's explicit
    value wins over the space file's fixed value or range)."""
    names = {d.name for d in space.dims}
    pinned = []
    for item in sets:
        key, sep, value = item.partition("=")
        name = key.strip().removeprefix("method.params.")
        if sep and name in names and (key.startswith("method.params.") or key.startswith("optim.")):
            pinned.append(f"{name}={value}")
    return pinned


def _default_name(req: SearchRequest, experiment: str) -> str:
    return f"{req.method}-{experiment}-{time.strftime('%Y%m%d-%H%M%S')}"


def _latest_search(storage: Path, prefix: str) -> str | None:
    cands = sorted((p for p in storage.glob(f"{prefix}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return cands[-1].name if cands else None


def _metric_group_check(metric: str, data) -> None:
    m = re.fullmatch(r"(?:best/)?val/(many|medium|few)", metric)
    if not m or data is None:
        return
    try:
        from ltsearch.data.profiles import shot_groups

        groups = shot_groups(data.train_counts)
    except Exception:
        return
    if not groups.get(m.group(1)):
        raise LTSearchError(f"--metric {metric}: this dataset has no {m.group(1)}-shot classes (train counts "
                            f"{min(data.train_counts)}..{max(data.train_counts)}); use val/acc or another group")


def _load_data(base: dict):
    from ltsearch.data import DatasetSpec, load_dataset

    cfg = config_from_dict(base, where="search base config")
    return load_dataset(DatasetSpec.from_config(cfg.dataset))


def _init_ray(req: SearchRequest) -> None:
    import ray

    if ray.is_initialized():
        return
    address = req.ray_address or os.environ.get("RAY_ADDRESS")
    kw: dict[str, Any] = dict(include_dashboard=False, log_to_driver=not req.display,
                              logging_level=logging.WARNING, configure_logging=True)
    if address:
        ray.init(address=address, **kw)
    else:
        # "local": never join a cluster that `ray start` left on this machine (/tmp/ray/ray_current_cluster)
        ray.init(address="local", num_cpus=req.num_cpus or os.cpu_count() or 1, **kw)


def _optuna_storage(req: SearchRequest, tracking_uri: str) -> str:
    if req.optuna_storage:
        return req.optuna_storage
    from ltsearch.tracking.writer import store_dir

    return f"sqlite:///{(store_dir(tracking_uri) / OPTUNA_DB).resolve()}"


def _space_params(space: SearchSpace, req: SearchRequest, max_t: int) -> dict[str, Any]:
    out: dict[str, Any] = {f"space.{d.name}": d.describe() for d in space.dims}
    out.update({"search": req.search, "sampler": {"tpe": "optuna-tpe", "random": "optuna-random",
                                                  "grid": "grid"}[req.search],
                "scheduler": req.scheduler, "metric": space.metric, "mode": space.mode, "trials": req.trials,
                "seed": req.seed, "space_file": space.source, "max_epochs": max_t})
    if req.scheduler == "asha":
        out.update({"asha.grace_period": req.grace_period, "asha.reduction_factor": req.reduction_factor,
                    "asha.time_attr": "epoch"})
    if req.search == "grid":
        out["grid_points"] = req.grid_points
    return out


def run_search(req: SearchRequest) -> SearchResult:
    """Run (or resume) one search; returns the trials and the best config."""
    space, base = prepare(req)
    from ltsearch.tracking import TAG_STATUS, TAG_VAL_PROTOCOL, experiment_name
    from ltsearch.tracking.artifacts import log_training_dataset
    from ltsearch.tracking.writer import TrackingWriter, resolve_tracking_uri, search_tags

    experiment = experiment_name(space.dataset, base["dataset"].get("imbalance_ratio"))
    storage = Path(req.storage_path).expanduser().resolve()
    name = req.name
    if req.resume and name is None:
        name = _latest_search(storage, f"{req.method}-{experiment}")
        if name is None:
            raise LTSearchError(f"--resume: no search of {req.method} on {experiment} under {storage}; "
                                f"give --name of the search to resume")
    name = name or _default_name(req, experiment)
    exp_dir = storage / name

    import ray
    from ray import tune

    if req.resume:
        if not tune.Tuner.can_restore(str(exp_dir)):
            raise LTSearchError(f"--resume: no search named '{name}' under {storage}; check --name and "
                                f"--storage-path")
    elif exp_dir.exists():
        raise LTSearchError(f"search '{name}' already exists under {storage}; use --resume to continue it "
                            f"or another --name")

    # the time axis of ASHA: the longest trial the space can produce
    point = space.paper_point(base)
    probe = space.config_for(point, base)
    for d in space.searched:
        if d.name.endswith("epochs") and d.kind in ("int", "categorical"):
            hi = d.high if d.kind == "int" else max(d.choices)
            from ltsearch.search.space import _set_path

            _set_path(probe, d.path, hi)
    max_t = planned_total(probe)

    data = _load_data(base) if req.trial_fn == "ltsearch.train:run_trial" else None
    _metric_group_check(space.metric, data)
    val_protocol = getattr(data, "val_protocol", None)

    # ---- from here on, things are written -------------------------------------------
    for key, value in (("TUNE_GLOBAL_CHECKPOINT_S", "1"), ("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1"),
                       ("RAY_AIR_NEW_OUTPUT", "0"), ("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S",
                                                     "1000")):
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", module="optuna")
    warnings.filterwarnings("ignore", module="ray")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("ray.tune").setLevel(logging.ERROR)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    writer = TrackingWriter(req.tracking_uri)
    tracking_uri = resolve_tracking_uri(req.tracking_uri)
    exp_id = writer.experiment_id(experiment)
    parent = writer.find_search_run(exp_id, name)
    if parent is not None and not req.resume:
        raise LTSearchError(f"search '{name}' already has an MLflow run in experiment {experiment}; "
                            f"use --resume or another --name")
    if parent is None:
        parent_id = writer.create_run(exp_id, name, search_tags(name, space.method, experiment,
                                                                **{TAG_STATUS: "running",
                                                                   TAG_VAL_PROTOCOL: val_protocol}))
        writer.log_params(parent_id, _space_params(space, req, max_t))
        writer.log_text(parent_id, space.to_yaml(), "space.yaml")
        writer.log_text(parent_id, dump_yaml(base), "base_config.yaml")
        log_training_dataset(writer, parent_id, data if data is not None else base["dataset"])
    else:
        parent_id = parent.info.run_id
        _check_same_search(parent_id, tracking_uri, name, space, base)
        writer.reopen(parent_id)
        writer.set_tags(parent_id, {TAG_STATUS: "running"})

    _init_ray(req)
    gpus = req.gpus_per_trial
    if gpus is None:
        gpus = default_gpus_per_trial(base.get("model", {}).get("name", ""), ray.cluster_resources().get("GPU", 0))
    if gpus == 0 and str(base.get("device", "auto")).startswith("cuda"):
        raise LTSearchError("--set device=cuda needs --gpus-per-trial > 0")

    trials_dir = exp_dir / "trials"
    plan = TrialPlan(space=space, base_config=base, trials_dir=str(trials_dir), cpus_per_trial=req.cpus_per_trial,
                     trial_fn=req.trial_fn)
    from ltsearch.search.display import LiveTable
    from ltsearch.search.record import MlflowTrialLogger
    from ltsearch.search.trainable import search_trial

    dims = [d.name for d in space.searched]
    logger_cb = MlflowTrialLogger(writer, exp_id, parent_id, plan, name, experiment, val_protocol, req.seed)
    callbacks: list = [logger_cb]
    live = None
    if req.display:
        live = LiveTable(f"{name}: {space.method} on {experiment} ({req.search}, {req.scheduler})", space.metric,
                         space.mode, dims, max_epochs=max_t)
        callbacks.append(live)

    trainable = tune.with_resources(tune.with_parameters(search_trial, plan=plan, data=data),
                                    {"cpu": req.cpus_per_trial, "gpu": gpus})
    optuna_url = None
    study_name = req.study or name
    interrupted = False
    try:
        if req.resume:
            tuner = tune.Tuner.restore(str(exp_dir), trainable, resume_unfinished=True, resume_errored=False)
            local = getattr(tuner, "_local_tuner", None)
            if local is not None:  # fresh callbacks (the pickled ones hold no live connections)
                local.get_run_config().callbacks = callbacks
            optuna_url = _optuna_storage(req, tracking_uri) if req.search != "grid" else None
        else:
            tuner, optuna_url = _new_tuner(req, space, base, trainable, storage, name, callbacks, max_t,
                                           tracking_uri)
        results = tuner.fit()
    except KeyboardInterrupt:
        interrupted = True
        results = None
    finally:
        if live is not None:
            live.stop()

    # ---- reconcile MLflow with Tune's final state, pick the best ---------------------
    summaries = _summaries(exp_dir, space, results)
    # Tune handles Ctrl-C itself (saves state, returns): unfinished trials mean "interrupted"
    interrupted = interrupted or any(s.status in ("pending", "running", "paused") for s in summaries)
    known = {s.trial_id for s in summaries}
    existing = writer.child_runs(exp_id, parent_id)
    orphans = [run.info.run_id for tid, run in existing.items() if tid not in known]
    if orphans:  # trials the killed driver started but Tune's snapshot never saw
        writer.delete_runs(orphans)
    from ltsearch.search.trainable import is_metric

    logger_cb._runs = None
    logger_cb._finished = set()
    for s in summaries:
        if s.status not in ("completed", "stopped", "failed"):
            continue
        run = existing.get(s.trial_id)
        if run is not None and run.data.tags.get(TAG_STATUS) in ("completed", "stopped", "failed"):
            continue
        if run is None and s.metrics:  # finished while the driver was down: log what Tune kept
            rid = logger_cb.run_id(s.trial_id, s.params)
            step = s.metrics.get("epoch", s.metrics.get(LAST_EPOCH_KEY)) or 0
            writer.log_metrics(rid, {k: v for k, v in s.metrics.items() if is_metric(k, v)}, step=int(step))
        logger_cb.finish(s.trial_id, s.params, s.status, dict(s.metrics), failure=s.failure)
    runs = writer.child_runs(exp_id, parent_id)
    for s in summaries:
        s.run_id = runs[s.trial_id].info.run_id if s.trial_id in runs else None

    best = _best(summaries, space.mode)
    best_config = space.config_for(best.params, base) if best else None
    result = SearchResult(
        name=name, method=space.method, dataset=space.dataset, experiment=experiment, metric=space.metric,
        mode=space.mode, dims=dims, trials=summaries, best_trial_id=best.trial_id if best else None,
        best_params=best.params if best else None, best_config=best_config,
        best_metric=best.metric if best else None, best_metrics=dict(best.metrics) if best else {},
        best_run_id=best.run_id if best else None, parent_run_id=parent_id, tracking_uri=tracking_uri,
        storage_dir=str(exp_dir), optuna_storage=optuna_url, study_name=study_name if optuna_url else None)
    if req.search == "grid" and not interrupted:
        result.optuna_storage = _record_grid_study(req, space, summaries, tracking_uri, name)
        result.study_name = study_name if result.optuna_storage else None
    _finish_parent(writer, result, interrupted)
    if interrupted:
        raise KeyboardInterrupt(name)  # the CLI prints how to resume this search
    return result


def _new_tuner(req, space, base, trainable, storage, name, callbacks, max_t, tracking_uri):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    optuna_url = None
    if req.search == "grid":
        grid = space.grid(req.grid_points, over=req.grid_over, values=req.grid_values, base_config=base)
        param_space = {"grid": tune.grid_search(grid)}
        search_alg = None
        num_samples = 1
    else:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        from ltsearch.search.sampler import SpaceSampler, make_optuna_sampler

        optuna_url = _optuna_storage(req, tracking_uri)
        db = optuna_url[len("sqlite:///"):] if optuna_url.startswith("sqlite:///") else None
        if db:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        ostorage = _rdb_storage(optuna_url)
        study_name = req.study or name
        if not req.study:  # a fresh search with a study of its own: drop a stale study of the same name
            try:
                optuna.delete_study(study_name=name, storage=ostorage)
            except KeyError:
                pass
        point = space.paper_point(base)
        if _create_or_join_study(ostorage, study_name, space) and point:
            optuna.load_study(study_name=study_name, storage=ostorage).enqueue_trial(point)  # the paper point, once
        search_alg = OptunaSearch(space=SpaceSampler(space), metric=space.metric, mode=space.mode,
                                  sampler=make_optuna_sampler(req.search, req.seed), storage=ostorage,
                                  study_name=study_name)
        param_space = None
        num_samples = req.trials
    if req.scheduler == "asha" and max_t > req.grace_period:
        scheduler = ASHAScheduler(time_attr="epoch", metric=space.metric, mode=space.mode, max_t=max_t,
                                  grace_period=req.grace_period, reduction_factor=req.reduction_factor)
    else:
        scheduler = FIFOScheduler()
    tune_config = tune.TuneConfig(search_alg=search_alg, scheduler=scheduler, num_samples=num_samples,
                                  max_concurrent_trials=req.max_concurrent, trial_name_creator=_trial_name,
                                  trial_dirname_creator=_trial_name,
                                  **({"metric": space.metric, "mode": space.mode} if search_alg is None
                                     and req.scheduler != "asha" else {}))
    run_config = tune.RunConfig(name=name, storage_path=str(storage), callbacks=callbacks, verbose=0,
                                failure_config=tune.FailureConfig(max_failures=req.retries))
    kw = {"tune_config": tune_config, "run_config": run_config}
    if param_space is not None:
        kw["param_space"] = param_space
    return tune.Tuner(trainable, **kw), optuna_url


def _check_same_search(parent_id: str, tracking_uri: str, name: str, space: SearchSpace, base: dict) -> None:
    """A resumed search must run the space and base config it started with (the sampler's state is
    restored from disk; trials of a different space would not be comparable)."""
    from ltsearch.tracking.reader import read_artifact_text

    for artifact, now in (("space.yaml", space.to_yaml()), ("base_config.yaml", dump_yaml(base))):
        before = read_artifact_text(parent_id, artifact, tracking_uri)
        if before is not None and before != now:
            raise LTSearchError(f"--resume: search '{name}' started with another {artifact[:-5].replace('_', ' ')} "
                                f"(see its {artifact} in MLflow); resume with the same --space/--param/--fix/"
                                f"--set/--epochs flags, or start a new search with another --name")


def _rdb_storage(url: str):
    """Optuna's RDBStorage; retried while another driver creates the tables of a fresh database."""
    import optuna
    import sqlalchemy.exc

    for attempt in range(4):
        try:
            return optuna.storages.RDBStorage(url)
        except sqlalchemy.exc.SQLAlchemyError:
            if attempt == 3:
                raise
            time.sleep(1.0 + attempt)


def _create_or_join_study(ostorage, study_name: str, space: SearchSpace) -> bool:
    """Create the study (True) or join the existing one of the same search space (False).

    Creation is atomic in the storage (unique study name), so of several drivers started on one
    ``--study`` exactly one creates it and enqueues the paper point; every driver then samples
    from the same study, and TPE sees the finished trials of all of them.
    """
    import json

    import optuna

    from ltsearch.search.sampler import distributions

    signature = json.dumps({"method": space.method, "metric": space.metric, "mode": space.mode,
                            "dims": {k: optuna.distributions.distribution_to_json(v)
                                     for k, v in sorted(distributions(space).items())}}, sort_keys=True)
    try:
        study = optuna.create_study(storage=ostorage, study_name=study_name,
                                    direction="maximize" if space.mode == "max" else "minimize")
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=ostorage)
        theirs = study.user_attrs.get("ltsearch.space")
        if theirs is not None and theirs != signature:
            raise LTSearchError(f"--study {study_name}: that study searches another space (method, metric, "
                                f"mode or ranges differ); join it with the same method and space flags, or use "
                                f"another --study") from None
        return False
    study.set_user_attr("ltsearch.space", signature)
    return True


def _summaries(exp_dir: Path, space: SearchSpace, results) -> list[TrialSummary]:
    """One summary per Tune trial, from the experiment state on disk (works after a kill too)."""
    from ray.tune import ExperimentAnalysis

    from ltsearch.search.display import trial_state
    from ltsearch.search.record import error_line, trial_error_text

    trials = []
    try:
        analysis = ExperimentAnalysis(str(exp_dir))
        trials = analysis.trials
    except Exception:
        if results is not None:
            trials = [getattr(r, "_trial", None) for r in results]
            trials = [t for t in trials if t is not None]
    out = []
    for t in trials:
        last = dict(t.last_result or {})
        status = trial_state(t.status, last)
        failure = error_line(trial_error_text(t)) if status == "failed" else None
        epochs = last.get("epoch", last.get(LAST_EPOCH_KEY))
        v = last.get(space.metric)
        out.append(TrialSummary(trial_id=t.trial_id, status=status, params=sampled_values(t.config),
                                metric=float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None,
                                epochs=int(epochs) if epochs is not None else None,
                                metrics={k: v for k, v in last.items()
                                         if isinstance(v, (int, float, str)) and not k.startswith("config")},
                                failure=failure))
    out.sort(key=lambda s: s.trial_id)
    return out


def _best(summaries: list[TrialSummary], mode: str) -> TrialSummary | None:
    pool = [s for s in summaries if s.status == "completed" and s.metric is not None]
    if not pool:
        pool = [s for s in summaries if s.metric is not None]
    if not pool:
        return None
    return (max if mode == "max" else min)(pool, key=lambda s: s.metric)


def _record_grid_study(req, space, summaries, tracking_uri, name) -> str | None:
    """Grid trials into an Optuna study (optuna-dashboard can open any finished search)."""
    try:
        import optuna

        from ltsearch.search.sampler import distributions

        url = _optuna_storage(req, tracking_uri)
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        study = optuna.create_study(storage=url, study_name=name, load_if_exists=True,
                                    direction="maximize" if space.mode == "max" else "minimize")
        have = {t.user_attrs.get("trial_id") for t in study.trials}
        dists = distributions(space)
        for s in summaries:
            if s.trial_id in have or s.metric is None or s.status == "failed":
                continue
            params = {k: v for k, v in s.params.items() if k in dists}
            study.add_trial(optuna.trial.create_trial(
                params=params, distributions={k: dists[k] for k in params}, value=s.metric,
                user_attrs={"trial_id": s.trial_id, "status": s.status}))
        return url
    except Exception as err:  # the study is a convenience; MLflow is the record
        logging.getLogger(__name__).warning("could not record the grid in Optuna: %s", err)
        return None


def _finish_parent(writer, result: SearchResult, interrupted: bool) -> None:
    from ltsearch.tracking import TAG_BEST_RUN, TAG_STATUS

    rid = result.parent_run_id
    counts = result.counts
    metrics: dict[str, Any] = {f"trials/{k}": counts.get(k, 0) for k in ("completed", "stopped", "failed")}
    metrics["trials/total"] = len(result.trials)
    if result.best_metrics:
        for k, v in result.best_metrics.items():
            if isinstance(v, (int, float)) and (k.startswith(("val/", "test/", "best/")) or k == "epochs_run"):
                metrics[k] = v
    writer.log_metrics(rid, metrics, step=0)
    tags: dict[str, Any] = {TAG_STATUS: "stopped" if interrupted else "completed"}
    if result.best_run_id:
        tags[TAG_BEST_RUN] = result.best_run_id
    writer.set_tags(rid, tags)
    if result.best_config is not None:
        writer.log_text(rid, dump_yaml(result.best_config), "best_config.yaml")
    from ltsearch.tracking.artifacts import log_search_importance

    log_search_importance(writer, rid, result.experiment, result.name, result.metric)
    writer.end_run(rid, "KILLED" if interrupted else "FINISHED")

"""Final multi-seed runs (``ltsearch train --config best.yaml --seeds 0,1,2``) in MLflow.

One run per seed in the dataset's experiment, tagged ``ltsearch.kind=final`` and linked to
the trial it came from (the ``ltsearch:`` provenance block that ``ltsearch export`` writes).
The leaderboard groups them by source run and shows mean ± std over the seeds.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

from ltsearch.config import dump_yaml, flatten
from ltsearch.data import DATASETS
from ltsearch.tracking import (
    TAG_DATASET,
    TAG_KIND,
    TAG_METHOD,
    TAG_SEED,
    TAG_SOURCE_RUN,
    TAG_SOURCE_SEARCH,
    TAG_STATUS,
    TAG_USER,
    TAG_VAL_PROTOCOL,
    default_tracking_uri,
    experiment_name,
    sqlite_path,
)
from ltsearch.tracking.artifacts import log_training_dataset, log_trial_figures
from ltsearch.tracking.names import final_run_name
from ltsearch.tracking.writer import EXPERIMENT_TAGS, TrackingWriter, current_user, tag_experiment_kind
from ltsearch.yamlio import safe_load

FINAL_METRIC_PREFIXES = ("test/", "val/", "best/")


def experiment_for_config(cfg) -> str:
    """The experiment of a trial config: ``<dataset>-ir<R>``, or ``<dataset>`` for fixed profiles."""
    name = cfg.dataset.name
    ratio = cfg.dataset.imbalance_ratio
    try:
        if DATASETS.get(name).default_imbalance_ratio is None:
            ratio = None
    except Exception:
        pass
    return experiment_name(name, ratio)


def artifact_root_for(tracking_uri: str) -> str | None:
    """Artifacts next to a sqlite store (``<db dir>/mlartifacts``) instead of the working directory."""
    db = sqlite_path(tracking_uri)
    return None if db is None else (db.resolve().parent / "mlartifacts").as_uri()


def ensure_experiment(client, name: str, tracking_uri: str) -> str:
    """The id of experiment ``name``, created (artifacts next to a sqlite store) when absent."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage != "active":
            client.restore_experiment(exp.experiment_id)
        tag_experiment_kind(client, exp)
        return exp.experiment_id
    root = artifact_root_for(tracking_uri)
    location = f"{root}/{name}" if root else None
    try:
        return client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_TAGS)
    except Exception:  # created concurrently
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def _provenance(config_path: str | Path | None) -> dict[str, Any]:
    if config_path is None:
        return {}
    try:
        data = safe_load(Path(config_path).read_text()) or {}
    except Exception:
        return {}
    block = data.get("ltsearch") if isinstance(data, dict) else None
    return block if isinstance(block, dict) else {}


def _param_value(v: Any) -> str:
    text = str(v)
    return text if len(text) <= 6000 else text[:6000]


def _source_trial_name(client, prov: dict) -> str | None:
    """The short name (``t03``) of the trial run an exported config came from, if any."""
    if not prov.get("source_run"):
        return None
    try:
        return client.get_run(str(prov["source_run"])).info.run_name
    except Exception:
        return None


def _logged_before(runs: list, tags: dict[str, str], params: dict[str, str]) -> str | None:
    """The id of a finished final run with the same seed, source run and config, if one is logged."""
    for run in runs:
        t = run.data.tags
        if (run.info.status == "FINISHED" and t.get(TAG_SEED) == tags[TAG_SEED]
                and t.get(TAG_SOURCE_RUN) == tags.get(TAG_SOURCE_RUN) and run.data.params == params):
            return run.info.run_id
    return None


def log_final_runs(cfg, results: list[dict], seed_list: list[int], config_path: str | Path | None = None,
                   tracking_uri: str | None = None, run_dirs: list[str | Path] | None = None,
                   data=None, logged_before: list[int] | None = None) -> list[str]:
    """Log one ``final`` run per seed; returns the run ids (``logged_before`` gets the seeds whose run
    of the same config and source was logged by an earlier ``train --seeds`` / ``confirm``: kept, not
    logged twice).

    ``cfg`` is the validated :class:`~ltsearch.config.TrialConfig` (its seed is replaced by
    each seed), ``results`` the :func:`ltsearch.train.run_trial` results in seed order,
    ``config_path`` the YAML given to ``ltsearch train`` (its ``ltsearch:`` block names the
    source run / search). With ``run_dirs`` (the seeds' output folders) each run gets its
    figures (:func:`~ltsearch.tracking.artifacts.log_trial_figures`); with ``data`` (the
    loaded LTData) the training set is logged as the runs' dataset input.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    uri = tracking_uri or default_tracking_uri()
    client = MlflowClient(tracking_uri=uri)
    exp_name = experiment_for_config(cfg)
    exp_id = ensure_experiment(client, exp_name, uri)
    prov = _provenance(config_path)
    tracker = TrackingWriter(uri)
    train_set = data  # ``data`` is reused below for each seed's config dict
    source_trial = _source_trial_name(client, prov)
    source = str(Path(cfg.dataset.root).expanduser().resolve()) if cfg.dataset.root else None
    run_ids = []
    existing = client.search_runs([exp_id], filter_string=f"tags.`{TAG_KIND}` = 'final'", max_results=50_000)
    for seed, result in zip(seed_list, results):
        data = {**cfg.to_dict(), "seed": int(seed)}
        tags = {
            TAG_KIND: "final",
            TAG_SEED: str(seed),
            TAG_METHOD: cfg.method.name,
            TAG_DATASET: exp_name,
            TAG_VAL_PROTOCOL: str(result.get("val_protocol", "")),
            TAG_STATUS: "completed",
        }
        if prov.get("source_run"):
            tags[TAG_SOURCE_RUN] = str(prov["source_run"])
        if prov.get("source_search"):
            tags[TAG_SOURCE_SEARCH] = str(prov["source_search"])
        tags[TAG_USER] = current_user()
        flat = {k: _param_value(v) for k, v in sorted(flatten(data).items())}
        same = _logged_before(existing, tags, flat)
        if same is not None:  # a rerun of `confirm` / `train --seeds` resumed this seed: logged once
            run_ids.append(same)
            if logged_before is not None:
                logged_before.append(int(seed))
            continue
        run = client.create_run(exp_id, tags=tags, run_name=final_run_name(cfg.method.name, seed, source_trial))
        rid = run.info.run_id
        now = int(time.time() * 1000)
        params = [Param(k, v) for k, v in flat.items()]
        metrics = [Metric(k, float(v), now, 0) for k, v in sorted(result.items())
                   if k.startswith(FINAL_METRIC_PREFIXES) and isinstance(v, (int, float)) and v is not None]
        if "epochs_run" in result:
            metrics.append(Metric("epochs_run", float(result["epochs_run"]), now, 0))
        for i in range(0, len(params), 100):
            client.log_batch(rid, params=params[i:i + 100])
        client.log_batch(rid, metrics=metrics)
        client.log_text(rid, dump_yaml(data), "config.yaml")
        per_class = result.get("per_class")
        if per_class:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(per_class[0]))
            writer.writeheader()
            writer.writerows(per_class)
            client.log_text(rid, buf.getvalue(), "per_class.csv")
        if run_dirs is not None:
            log_trial_figures(tracker, rid, run_dirs[len(run_ids)])
        if train_set is not None:
            log_training_dataset(tracker, rid, train_set, source=source)
        client.set_terminated(rid, "FINISHED")
        run_ids.append(rid)
    return run_ids

"""The only MLflow *read* module: runs of an experiment as plain dicts.

Everything returned here is plain Python data (``dict`` / ``list`` / ``str`` / ``float``),
so the leaderboard, heatmap, importance and export modules never touch mlflow objects.

A run dict::

    {"run_id", "run_name", "experiment_id", "status" (MLflow: FINISHED | FAILED | ...),
     "start_time", "end_time", "tags": {...}, "params": {...} (strings, as logged),
     "metrics": {...} (latest value of each metric)}
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from ltsearch.config import parse_value
from ltsearch.data import DATASETS
from ltsearch.errors import LTSearchError
from ltsearch.tracking import (
    TAG_KIND,
    TAG_METHOD,
    TAG_SEARCH,
    TAG_STATUS,
    default_tracking_uri,
    experiment_name,
    sqlite_path,
)

FINISHED_STATUSES = ("completed", "stopped")  # TAG_STATUS values of a trial worth showing


def client(tracking_uri: str | None = None):
    """An ``MlflowClient`` on ``tracking_uri`` (default: MLFLOW_TRACKING_URI or ./mlflow.db)."""
    from mlflow import MlflowClient

    for name in ("mlflow.store.db.utils", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=tracking_uri or default_tracking_uri())


def store_missing(tracking_uri: str | None = None) -> bool:
    """True for a sqlite store whose file does not exist (reading must not create it)."""
    path = sqlite_path(tracking_uri or default_tracking_uri())
    return path is not None and str(path) != ":memory:" and not path.exists()


def _quote(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def run_to_dict(run) -> dict[str, Any]:
    info, data = run.info, run.data
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "tags": {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}
        | {k: v for k, v in data.tags.items() if k in ("mlflow.parentRunId", "mlflow.runName")},
        "params": dict(data.params),
        "metrics": dict(data.metrics),
    }


def list_experiments(tracking_uri: str | None = None) -> list[str]:
    """Names of the active experiments in the store (sorted)."""
    if store_missing(tracking_uri):
        return []
    c = client(tracking_uri)
    return sorted(e.name for e in c.search_experiments())


def experiment_id(name: str, tracking_uri: str | None = None) -> str | None:
    if store_missing(tracking_uri):
        return None
    exp = client(tracking_uri).get_experiment_by_name(name)
    if exp is None or exp.lifecycle_stage != "active":
        return None
    return exp.experiment_id


def resolve_experiment(dataset: str, imbalance_ratio: float | None, tracking_uri: str | None = None) -> str:
    """The experiment name of ``dataset`` (+ ratio). Without a ratio: the dataset's fixed-profile
    experiment, else the only ``<dataset>-ir*`` experiment present, else the dataset's default ratio."""
    if imbalance_ratio is not None:
        return experiment_name(dataset, imbalance_ratio)
    names = list_experiments(tracking_uri)
    if dataset in names:
        return dataset
    candidates = [n for n in names if n.startswith(f"{dataset}-ir")]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        ratios = ", ".join(n[len(dataset) + 3:] for n in candidates)
        raise LTSearchError(f"--dataset {dataset}: runs exist for several imbalance ratios ({ratios}); "
                            f"choose one with --imbalance-ratio")
    try:
        default = DATASETS.get(dataset).default_imbalance_ratio
    except Exception:  # unknown dataset: the name as given
        default = None
    return experiment_name(dataset, default)


def search_runs(experiment: str, tracking_uri: str | None = None, *, kind: str | None = None,
                search: str | None = None, method: str | None = None,
                extra_filter: str | None = None) -> list[dict[str, Any]]:
    """All runs of ``experiment`` (by name) with the given tags, as dicts, oldest first.

    Returns ``[]`` when the experiment does not exist.
    """
    exp_id = experiment_id(experiment, tracking_uri)
    if exp_id is None:
        return []
    c = client(tracking_uri)
    clauses = []
    if kind is not None:
        clauses.append(f"tags.`{TAG_KIND}` = {_quote(kind)}")
    if search is not None:
        clauses.append(f"tags.`{TAG_SEARCH}` = {_quote(search)}")
    if method is not None:
        clauses.append(f"tags.`{TAG_METHOD}` = {_quote(method)}")
    if extra_filter:
        clauses.append(extra_filter)
    out, token = [], None
    while True:
        page = c.search_runs([exp_id], filter_string=" and ".join(clauses), max_results=1000,
                             order_by=["attributes.start_time ASC"], page_token=token)
        out.extend(run_to_dict(r) for r in page)
        token = page.token
        if not token:
            break
    return out


def is_finished(run: dict) -> bool:
    """A trial / final run worth showing: completed or stopped early (ASHA), never failed or running."""
    status = run["tags"].get(TAG_STATUS)
    if status is not None:
        return status in FINISHED_STATUSES
    return run["status"] == "FINISHED"


def trial_runs(experiment: str, tracking_uri: str | None = None, *, search: str | None = None,
               method: str | None = None, finished_only: bool = True) -> list[dict]:
    runs = search_runs(experiment, tracking_uri, kind="trial", search=search, method=method)
    return [r for r in runs if is_finished(r)] if finished_only else runs


def final_runs(experiment: str, tracking_uri: str | None = None, *, method: str | None = None,
               finished_only: bool = True) -> list[dict]:
    runs = search_runs(experiment, tracking_uri, kind="final", method=method)
    return [r for r in runs if is_finished(r)] if finished_only else runs


def parent_run(experiment: str, search_name: str, tracking_uri: str | None = None) -> dict | None:
    """The parent run of search ``search_name`` (the newest one if it was started twice)."""
    runs = search_runs(experiment, tracking_uri, kind="search", search=search_name)
    return runs[-1] if runs else None


def search_names(experiment: str, tracking_uri: str | None = None) -> list[str]:
    """Names of the searches logged in ``experiment`` (parents, else the trials' tags)."""
    names = {r["tags"].get(TAG_SEARCH) for r in search_runs(experiment, tracking_uri, kind="search")}
    if not names - {None}:
        names = {r["tags"].get(TAG_SEARCH) for r in search_runs(experiment, tracking_uri, kind="trial")}
    return sorted(n for n in names if n)


def metric_history(run_id: str, key: str, tracking_uri: str | None = None, _client=None) -> list[tuple[int, float]]:
    """``[(step, value), ...]`` of one metric, sorted by step (then by time)."""
    c = _client or client(tracking_uri)
    hist = c.get_metric_history(run_id, key)
    return [(int(m.step), float(m.value)) for m in sorted(hist, key=lambda m: (m.step, m.timestamp))]


def metric_histories(run_ids: Iterable[str], key: str, tracking_uri: str | None = None) -> dict[str, list]:
    run_ids = list(run_ids)
    if not run_ids:
        return {}
    c = client(tracking_uri)
    return {rid: metric_history(rid, key, _client=c) for rid in run_ids}


def read_artifact_text(run_id: str, path: str, tracking_uri: str | None = None) -> str | None:
    """The text of artifact ``path`` of a run, or None when it is absent."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    c = client(tracking_uri)
    parent = str(Path(path).parent) if "/" in path else None
    try:
        names = {f.path for f in c.list_artifacts(run_id, parent)}
    except Exception:
        return None
    if path not in names:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = c.download_artifacts(run_id, path, tmp)
        except Exception:
            return None
        return Path(local).read_text()


def parse_param(text: Any) -> Any:
    """An MLflow param (a string) back to plain data: ``"0.1"`` -> 0.1, ``"None"`` -> None, lists."""
    if not isinstance(text, str):
        return text
    if text in ("None", "null", "~"):
        return None
    if text in ("True", "False", "true", "false"):
        return text.lower() == "true"

    value = parse_value(text)
    if isinstance(value, str):  # a number YAML leaves as text (e.g. "1E4")
        try:
            return float(value)
        except ValueError:
            return value
    return value

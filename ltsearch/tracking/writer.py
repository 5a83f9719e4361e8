"""The only writer of MLflow (schema in :mod:`ltsearch.tracking`).

A search writes through one :class:`TrackingWriter` owned by its driver, so its trials never
write to the store themselves; several drivers, ``train`` and ``confirm`` may share one store, and
the writer's client retries sqlite's "database is locked" (many writers, one file). Runs are found
again by their tags, which makes every write idempotent across an interrupted and resumed
search: a trial's child run is looked up by ``TAG_TRIAL_ID`` under its parent before one is
created.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import math
import os
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

from filelock import FileLock

from ltsearch.tracking import (
    TAG_DATASET,
    TAG_FAILURE,
    TAG_KIND,
    TAG_METHOD,
    TAG_SEARCH,
    TAG_STATUS,
    TAG_TRIAL_ID,
    TAG_USER,
    resolve_tracking_uri,  # noqa: F401  (re-exported: the engine imports it from here)
    sqlite_path,
)

PARENT_TAG = "mlflow.parentRunId"
MAX_PARAM_LEN = 6000
ARTIFACT_DIR = "mlartifacts"


def store_dir(uri: str) -> Path:
    """The folder beside the store (sqlite file's folder, file store root, else the cwd)."""
    db = sqlite_path(uri)
    if db is not None:
        return db.parent
    if uri.startswith("file://"):
        return Path(uri[len("file://"):]).parent
    return Path.cwd()


def _clean_metric(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    try:  # numpy scalars
        v = float(value)
        return v if math.isfinite(v) else None
    except (TypeError, ValueError):
        return None


def _param_value(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= MAX_PARAM_LEN else text[: MAX_PARAM_LEN - 3] + "..."


def current_user() -> str:
    """Who runs ltsearch (``TAG_USER``): LTSEARCH_USER, else the login name."""
    user = os.environ.get("LTSEARCH_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


LOCK_RETRY_S = float(os.environ.get("LTSEARCH_DB_LOCK_RETRY_S", "120"))  # total wait on a busy sqlite store


def is_locked_error(err: BaseException) -> bool:
    """sqlite's "database is locked" (also wrapped by SQLAlchemy / MlflowException)."""
    text = str(err).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


class _RetryingClient:
    """An MlflowClient whose calls wait out a locked sqlite store (many writers, one file) instead of
    failing: each call is one transaction, rolled back on a lock, so a retry never writes twice."""

    def __init__(self, client, budget_s: float = LOCK_RETRY_S):
        self._client, self._budget = client, budget_s

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            deadline, delay = time.monotonic() + self._budget, 0.05
            while True:
                try:
                    return attr(*args, **kwargs)
                except Exception as err:
                    if not is_locked_error(err) or time.monotonic() > deadline:
                        raise
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 2.0)

        return call


def _has_schema(db: Path) -> bool:
    """Whether MLflow's migrations have run on ``db`` (its alembic version table holds a row)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=LOCK_RETRY_S)
        try:
            return con.execute("SELECT count(*) FROM alembic_version").fetchone()[0] > 0
        finally:
            con.close()
    except sqlite3.Error:
        return False


def create_store_once(uri: str, db: Path) -> None:
    """Create / migrate a fresh sqlite store under a file lock: MLflow's schema migration is not safe
    when two processes start on a new ``mlflow.db`` at the same moment (one fails). The lock file
    lives in the temp folder (one per database path), so nothing is added beside the store."""
    if db.is_file() and _has_schema(db):
        return

    key = hashlib.sha256(str(db.resolve()).encode()).hexdigest()[:16]
    with FileLock(str(Path(tempfile.gettempdir()) / f"ltsearch-mlflow-{key}.lock"), timeout=LOCK_RETRY_S):
        if db.is_file() and _has_schema(db):
            return
        if (not db.exists() or db.stat().st_size == 0) and _copy_schema(db):
            return
        from mlflow import MlflowClient

        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)  # creates the tables, runs migrations


def _schema_template() -> Path:
    """An empty sqlite store with MLflow's tables, migrated once per MLflow version and machine
    (``$LTSEARCH_CACHE/mlflow-<version>-schema.db``): running MLflow's ~60 migrations on every
    fresh store costs 3-10 s (bench P1); copying the result costs milliseconds. It holds no
    experiment: MLflow adds its Default experiment, with the store's own paths, on first open."""
    import mlflow
    from mlflow.store.db.utils import _initialize_tables  # the step SqlAlchemyStore runs on an empty db
    from sqlalchemy import create_engine

    from ltsearch.data.cache import cache_dir

    path = cache_dir() / f"mlflow-{mlflow.__version__}-schema.db"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock", timeout=LOCK_RETRY_S):
        if not path.is_file():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            engine = create_engine(f"sqlite:///{tmp}")
            try:
                _initialize_tables(engine)
            finally:
                engine.dispose()
            os.replace(tmp, path)
    return path


def _copy_schema(db: Path) -> bool:
    """Create the fresh store ``db`` as a copy of :func:`_schema_template`; False (and MLflow
    migrates ``db`` itself) when the template cannot be made, e.g. MLflow moved its internals."""
    try:
        template = _schema_template()
        tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
        shutil.copyfile(template, tmp)
        os.replace(tmp, db)
        return _has_schema(db)
    except Exception as err:
        logging.getLogger(__name__).debug("no MLflow schema template (%s); migrating %s", err, db)
        return False


# A model-training experiment, not a GenAI one: MLflow 3.x UIs that honour the experiment's
# kind open it on its runs table. MLflow 3.17 decides the landing page by a per-browser
# "GenAI | Model training" switch instead (URL ``?workflowType=machine_learning``, see
# :func:`ltsearch.tracking.names.ui_url`); the tag is kept for the UIs that read it.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_TAGS = {EXPERIMENT_KIND_TAG: "custom_model_development"}


def tag_experiment_kind(client, experiment) -> None:
    """Tag an existing experiment (an ``Experiment`` entity) as model training, once."""
    if experiment.tags.get(EXPERIMENT_KIND_TAG) is None:
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_TAGS[EXPERIMENT_KIND_TAG])


class TrackingWriter:
    """Thin, idempotent wrapper around :class:`mlflow.MlflowClient` for ltsearch runs."""

    def __init__(self, tracking_uri: str | None = None):
        self.uri = resolve_tracking_uri(tracking_uri)
        self._client = None

    # pickling (Tune callbacks hold a writer): keep only the URI
    def __getstate__(self):
        return {"uri": self.uri, "_client": None}

    @property
    def client(self):
        if self._client is None:
            from mlflow import MlflowClient

            db = sqlite_path(self.uri)
            if db is not None:
                db.parent.mkdir(parents=True, exist_ok=True)
                create_store_once(self.uri, db)
            self._client = _RetryingClient(MlflowClient(tracking_uri=self.uri))
        return self._client

    # ---- experiments ------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        """Get or create the experiment ``name`` (artifacts beside a sqlite store)."""
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted":
                self.client.restore_experiment(exp.experiment_id)
            tag_experiment_kind(self.client, exp)
            return exp.experiment_id
        location = None
        if sqlite_path(self.uri) is not None:
            location = (store_dir(self.uri) / ARTIFACT_DIR / name).resolve().as_uri()
        try:
            exp_id = self.client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_TAGS)
        except Exception:  # created concurrently by another process
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                raise
            exp_id = exp.experiment_id
        return exp_id

    # ---- finding runs -----------------------------------------------------------
    def find_runs(self, experiment_id: str, tags: dict[str, str], parent: str | None = None) -> list:
        clauses = [f"tags.`{k}` = '{v}'" for k, v in tags.items()]
        if parent is not None:
            clauses.append(f"tags.`{PARENT_TAG}` = '{parent}'")
        out, token = [], None
        while True:
            page = self.client.search_runs([experiment_id], filter_string=" and ".join(clauses),
                                           max_results=1000, page_token=token)
            out.extend(page)
            token = page.token
            if not token:
                return out

    def find_search_run(self, experiment_id: str, search: str):
        runs = self.find_runs(experiment_id, {TAG_KIND: "search", TAG_SEARCH: search})
        return runs[0] if runs else None

    def child_runs(self, experiment_id: str, parent_run_id: str) -> dict[str, Any]:
        """``trial id -> run`` of the parent's trial runs (the newest per trial id)."""
        out: dict[str, Any] = {}
        for run in self.find_runs(experiment_id, {TAG_KIND: "trial"}, parent=parent_run_id):
            tid = run.data.tags.get(TAG_TRIAL_ID)
            if tid and (tid not in out or run.info.start_time > out[tid].info.start_time):
                out[tid] = run
        return out

    # ---- writing ----------------------------------------------------------------
    def create_run(self, experiment_id: str, name: str, tags: dict[str, Any], parent: str | None = None) -> str:
        tags = {k: str(v) for k, v in tags.items() if v is not None}
        tags.setdefault(TAG_USER, current_user())
        if parent is not None:
            tags[PARENT_TAG] = parent
        run = self.client.create_run(experiment_id, tags=tags, run_name=name)
        return run.info.run_id

    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, str(v)) for k, v in tags.items() if v is not None]
        if items:
            self.client.log_batch(run_id, tags=items)

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """Log params once; values already logged (resume) are skipped, never re-written."""
        from mlflow.entities import Param

        have = self.client.get_run(run_id).data.params
        items = [Param(str(k), _param_value(v)) for k, v in params.items() if str(k) not in have]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i:i + 100])

    def log_metrics(self, run_id: str, metrics: dict[str, Any], step: int | None = None) -> None:
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = []
        for k, v in metrics.items():
            fv = _clean_metric(v)
            if fv is not None:
                items.append(Metric(str(k), fv, ts, int(step or 0)))
        for i in range(0, len(items), 500):
            self.client.log_batch(run_id, metrics=items[i:i + 500])

    def log_artifact(self, run_id: str, path: str | Path, artifact_path: str | None = None) -> None:
        if Path(path).is_file():
            self.client.log_artifact(run_id, str(path), artifact_path)

    def log_text(self, run_id: str, text: str, name: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / name
            p.write_text(text)
            self.client.log_artifact(run_id, str(p))

    def logged_steps(self, run_id: str, key: str) -> set[int]:
        """The steps of ``key`` the run has (none for a run the store lacks). Any other store error
        is raised: read as "nothing logged", it would log every epoch again."""
        from mlflow.exceptions import MlflowException

        try:
            return {m.step for m in self.client.get_metric_history(run_id, key)}
        except MlflowException as err:
            if err.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            return set()

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status=status)

    def reopen(self, run_id: str) -> None:
        """Mark a finished / killed run as running again (resumed search)."""
        self.client.update_run(run_id, status="RUNNING")

    def delete_runs(self, run_ids: Iterable[str]) -> None:
        for rid in run_ids:
            self.client.delete_run(rid)

    # ---- convenience for the schema ----------------------------------------------
    def set_status(self, run_id: str, status: str, failure: str | None = None) -> None:
        tags: dict[str, Any] = {TAG_STATUS: status}
        if failure:
            tags[TAG_FAILURE] = failure.strip().splitlines()[-1][:500] if failure.strip() else failure
        self.set_tags(run_id, tags)


def search_tags(search: str, method: str, dataset: str, **extra: Any) -> dict[str, Any]:
    return {TAG_KIND: "search", TAG_SEARCH: search, TAG_METHOD: method, TAG_DATASET: dataset, **extra}

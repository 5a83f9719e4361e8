"""Report artifacts (heatmap PNG / CSV, importance JSON) attached to a search's parent run."""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Iterable

from ltsearch.data import DatasetSpec, describe_dataset
from ltsearch.errors import LTSearchError
from ltsearch.metrics import shot_groups
from ltsearch.reports.importance import importance_for_search
from ltsearch.tracking import default_tracking_uri, experiment_name, figures, outputs
from ltsearch.tracking.outputs import CONFUSION_FILE
from ltsearch.tracking.reader import parent_run
from ltsearch.yamlio import safe_load


def log_files(run_id: str, paths: Iterable[str | Path], artifact_path: str | None = None,
              tracking_uri: str | None = None) -> list[str]:
    """Upload files to an (even finished) run; returns the artifact paths."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri or default_tracking_uri())
    out = []
    for p in paths:
        p = Path(p)
        client.log_artifact(run_id, str(p), artifact_path)
        out.append(f"{artifact_path}/{p.name}" if artifact_path else p.name)
    return out


def log_to_search(experiment: str, search_name: str, paths: Iterable[str | Path], artifact_path: str | None = None,
                  tracking_uri: str | None = None) -> str | None:
    """Upload files to the parent run of ``search_name``; returns its run id (None: no parent run)."""
    parent = parent_run(experiment, search_name, tracking_uri)
    if parent is None:
        return None
    log_files(parent["run_id"], paths, artifact_path, tracking_uri)
    return parent["run_id"]


def log_importance(experiment: str, search_name: str, importances: dict[str, float], metric: str,
                   tracking_uri: str | None = None, runs: str | None = None) -> str | None:
    """``importance.json`` ({metric, importances, runs: which runs it rests on}) on the search's parent run."""
    from mlflow import MlflowClient

    parent = parent_run(experiment, search_name, tracking_uri)
    if parent is None:
        return None
    client = MlflowClient(tracking_uri=tracking_uri or default_tracking_uri())
    client.log_text(parent["run_id"], json.dumps({"metric": metric, "importances": importances, "runs": runs}, indent=2),
                    "importance.json")
    return parent["run_id"]


# --- figures, datasets and importance of trials and searches (issue 14.6) ------------------
FIGURE_FILES = ("learning_curves.png", "per_class_accuracy.png", "confusion_matrix.png")
IMPORTANCE_MIN_COMPLETED = 5  # fewer completed trials: importance is printed with a warning
TAG_IMPORTANCE_WARNING = "ltsearch.importance_warning"


def _warn(what: str, err: BaseException) -> None:
    logging.getLogger("ltsearch.tracking").warning("%s: %s: %s", what, type(err).__name__, err)


def _trial_title(trial_dir: Path) -> str:
    """``kps on digits-lt-ir10, resnet8`` from the trial folder's config.yaml ('' if absent)."""
    try:
        cfg = safe_load((trial_dir / "config.yaml").read_text()) or {}
        ds = cfg.get("dataset", {})
        return (f"{cfg.get('method', {}).get('name', '?')} on "
                f"{experiment_name(ds.get('name', '?'), ds.get('imbalance_ratio'))}, {cfg.get('model', {}).get('name', '?')}")
    except Exception:
        return ""


def trial_figures(trial_dir: str | Path, out_dir: str | Path, num_classes_limit: int = 100) -> list[Path]:
    """Render the PNGs a trial folder allows into ``out_dir``: learning curves (from
    ``metrics.jsonl``), per-class accuracy head to tail (``per_class.csv``) and the confusion
    matrix (``confusion.csv``, up to ``num_classes_limit`` classes). A figure whose input is
    missing or unreadable is skipped with a logged warning; returns the files written."""
    trial_dir, out_dir = Path(trial_dir), Path(out_dir)
    title = _trial_title(trial_dir)
    written: list[Path] = []
    rows = None
    if (trial_dir / outputs.PER_CLASS_FILE).is_file():
        try:
            rows = outputs.read_per_class(trial_dir / outputs.PER_CLASS_FILE)
        except Exception as err:
            _warn(f"per-class CSV of {trial_dir}", err)
    if (trial_dir / outputs.METRICS_FILE).is_file():
        try:
            epochs = outputs.read_metrics(trial_dir / outputs.METRICS_FILE)
            if epochs:
                written.append(figures.learning_curves(epochs, out_dir / FIGURE_FILES[0], title))
        except Exception as err:
            _warn(f"learning curves of {trial_dir}", err)
    if rows:
        try:
            written.append(figures.per_class_accuracy(rows, out_dir / FIGURE_FILES[1], title))
        except Exception as err:
            _warn(f"per-class figure of {trial_dir}", err)
    conf = trial_dir / outputs.CONFUSION_FILE
    if conf.is_file():
        try:
            names, matrix = outputs.read_confusion(conf)
            if len(names) <= num_classes_limit:
                by_class = {r["class"]: r for r in rows or []}
                counts = groups = None
                if len(by_class) == len(names):
                    counts = [by_class[i]["train_count"] for i in range(len(names))]
                    groups = [by_class[i]["group"] for i in range(len(names))]
                written.append(figures.confusion_matrix(names, matrix, out_dir / FIGURE_FILES[2], counts, groups,
                                                        title=f"confusion matrix (test) — {title}" if title else ""))
        except Exception as err:
            _warn(f"confusion matrix of {trial_dir}", err)
    return written


def has_figures(writer, run_id: str) -> bool:
    """Whether run ``run_id`` holds a trial's figures already."""
    try:
        return bool({a.path for a in writer.client.list_artifacts(run_id)} & set(FIGURE_FILES))
    except Exception as err:
        _warn(f"artifacts of run {run_id}", err)
        return False


def log_trial_figures(writer, run_id: str, trial_dir: str | Path, num_classes_limit: int = 100,
                      confusion_csv: bool = True) -> list[str]:
    """Log a trial's figures (and, with ``confusion_csv``, its ``confusion.csv``) to run ``run_id``;
    returns the artifact names. ``writer`` is a :class:`~ltsearch.tracking.writer.TrackingWriter`; ``trial_dir`` the
    folder :func:`ltsearch.train.run_trial` wrote (works for stopped trials too: whatever
    exists is drawn). Never raises: a figure that cannot be drawn or uploaded is logged as a
    warning, so a plot never fails a search.

    >>> log_trial_figures(writer, rid, "trials/kps-.../trials/a1b2c_00003")  # doctest: +SKIP
    ['learning_curves.png', 'per_class_accuracy.png', 'confusion_matrix.png', 'confusion.csv']
    """
    trial_dir = Path(trial_dir)
    logged: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for png in trial_figures(trial_dir, tmp, num_classes_limit):
                writer.log_artifact(run_id, png)
                logged.append(png.name)
        if confusion_csv and (trial_dir / CONFUSION_FILE).is_file():
            writer.log_artifact(run_id, trial_dir / CONFUSION_FILE)
            logged.append(CONFUSION_FILE)
    except Exception as err:
        _warn(f"figures of run {run_id}", err)
    return logged


_SUMMARIES: dict[str, dict] = {}


def _dataset_summary(data) -> dict:
    """``{name, imbalance_ratio, train_counts, class_names, root}`` from an LTData, a
    ``summarize`` / ``describe_dataset`` dict, a dataset config dict or a list of counts."""
    if isinstance(data, (list, tuple)):
        return {"name": "dataset", "imbalance_ratio": None, "train_counts": [int(c) for c in data]}
    if isinstance(data, dict) and "train_counts" not in data:  # a dataset config section

        spec = DatasetSpec(**{k: v for k, v in data.items() if k in DatasetSpec.__dataclass_fields__})
        key = repr(spec)
        if key not in _SUMMARIES:  # one description per process (every trial of a search asks)
            out = dict(describe_dataset(spec))
            out.setdefault("root", data.get("root"))
            _SUMMARIES[key] = out
        return _SUMMARIES[key]
    if isinstance(data, dict):
        return dict(data)
    return {"name": data.name, "imbalance_ratio": getattr(data, "imbalance_ratio", None),
            "train_counts": list(data.train_counts), "class_names": list(getattr(data, "class_names", []) or [])}


def training_dataset(data, source: str | None = None):
    """The training split as an ``mlflow.data`` PandasDataset: one row per class (``class,
    name, train_count, group``), named ``<dataset>-ir<R>-train``, with a profile giving the
    class and image counts, the imbalance ratio n_max / n_min, the shot-group sizes and the
    source (``source``, else the data root, else a code source naming ltsearch's loader for
    embedded data)."""
    import pandas as pd  # MLflow's dataset API takes a DataFrame (mlflow imports pandas as well)
    from mlflow.data.pandas_dataset import from_pandas

    s = _dataset_summary(data)
    counts = [int(c) for c in s["train_counts"]]
    names = list(s.get("class_names") or []) or [str(i) for i in range(len(counts))]
    group_of = {c: g for g, cs in shot_groups(counts).items() for c in cs}
    frame = pd.DataFrame({"class": range(len(counts)), "name": [str(n) for n in names], "train_count": counts,
                          "group": [group_of.get(i, "") for i in range(len(counts))]})
    nonzero = [c for c in counts if c > 0]
    src = source or (str(s["root"]) if s.get("root") else None)
    if src is None:  # embedded data (digits-lt): built by ltsearch's loader, no folder to point at
        from mlflow.data.code_dataset_source import CodeDatasetSource

        where = CodeDatasetSource({"ltsearch.dataset": s["name"], "loader": "ltsearch.data.load_dataset"})
        src = f"ltsearch.data.load_dataset('{s['name']}')"
    else:
        where = src
    name = f"{experiment_name(s['name'], s.get('imbalance_ratio'))}-train"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = from_pandas(frame, source=where, name=name, targets="train_count")
    profile = {"num_classes": len(counts), "num_train_images": sum(counts),
               "imbalance_ratio": round(max(nonzero) / min(nonzero), 4) if nonzero else None,
               "requested_imbalance_ratio": s.get("imbalance_ratio"),
               "shot_groups": {g: len(cs) for g, cs in shot_groups(counts).items()},
               "source": src, "train_counts": counts}
    return ds, profile


def log_training_dataset(writer, run_id: str, data, source: str | None = None) -> str | None:
    """Log the training set as an MLflow dataset input (context ``train``) of run ``run_id``.

    ``data`` is an :class:`ltsearch.data.LTData`, its ``summarize`` dict, a dataset config
    section (``{"name": "digits-lt", "imbalance_ratio": 10, ...}``, counted without loading
    images where the dataset allows) or a list of per-class counts. The dataset's profile
    (shown in the UI's dataset drawer) holds the counts and the imbalance ratio. Idempotent
    (MLflow keeps one input per dataset digest and context); returns the dataset name, None
    (with a logged warning) when it could not be logged.
    """
    try:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        ds, profile = training_dataset(data, source)
        with warnings.catch_warnings():  # schema inference hints about integer columns
            warnings.simplefilter("ignore")
            e = ds._to_mlflow_entity()
        entity = Dataset(name=e.name, digest=e.digest, source_type=e.source_type, source=e.source, schema=e.schema,
                         profile=json.dumps(profile))
        writer.client.log_inputs(run_id, datasets=[DatasetInput(entity, [InputTag("mlflow.data.context", "train")])])
        return e.name
    except Exception as err:
        _warn(f"training dataset of run {run_id}", err)
        return None


def log_search_importance(writer, parent_run_id: str, experiment: str, search: str, metric: str = "val/acc",
                          min_completed: int = IMPORTANCE_MIN_COMPLETED) -> dict | None:
    """fANOVA importance of a finished search on its parent run: ``importance.json``
    (``{metric, importances, runs, configs, warning}``) and ``importance.png``.

    The importance rests on the runs of one budget (:func:`~ltsearch.reports.importance.budget_runs`);
    with fewer than ``min_completed`` of them the plot carries a red warning and the parent gets
    the tag ``ltsearch.importance_warning``; with too few trials for fANOVA at all (or nothing
    varied) only the warning is drawn. Call once at the end of each search
    (:meth:`~ltsearch.search.recorder.Recorder.close_parent`). Never raises; returns the JSON
    written (None on failure, with a logged warning).
    """
    try:
        basis, warning = None, None
        try:
            imp, basis = importance_for_search(writer.uri, experiment, search, metric)
            if basis.configs < min_completed:
                warning = (f"only {basis.configs} config{'s' if basis.configs != 1 else ''} at one budget "
                           f"(< {min_completed}): importance is not meaningful")
        except LTSearchError as err:
            imp, warning = {}, str(err)
        doc = {"metric": metric, "importances": imp, "runs": str(basis) if basis else None,
               "configs": basis.configs if basis else 0, "warning": warning}
        with tempfile.TemporaryDirectory() as tmp:
            title = f"fANOVA importance of {search} ({metric}{'; ' + str(basis) if basis else ''})"
            png = figures.importance_bars(imp, Path(tmp) / "importance.png", title=title, warning=warning)
            writer.log_artifact(parent_run_id, png)
        writer.log_text(parent_run_id, json.dumps(doc, indent=2), "importance.json")
        if warning:
            writer.set_tags(parent_run_id, {TAG_IMPORTANCE_WARNING: warning})
        elif TAG_IMPORTANCE_WARNING in writer.client.get_run(parent_run_id).data.tags:  # resumed: enough now
            writer.client.delete_tag(parent_run_id, TAG_IMPORTANCE_WARNING)
        return doc
    except Exception as err:
        _warn(f"importance of search {search}", err)
        return None

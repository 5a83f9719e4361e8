"""MLflow schema shared by the writer (search engine, train) and the reader (leaderboard).

Only ``ltsearch.tracking`` imports mlflow. One experiment per dataset (name + imbalance
ratio, see :func:`experiment_name`), one parent run per search, one nested child run per
trial, and ``final`` runs for ``ltsearch train --seeds``.
"""

from __future__ import annotations

import os
from pathlib import Path

# --- tags ------------------------------------------------------------------------------
TAG_KIND = "ltsearch.kind"  # "search" (parent) | "trial" (child) | "final" | "heatmap"
TAG_SEARCH = "ltsearch.search"  # search name
TAG_METHOD = "ltsearch.method"
TAG_DATASET = "ltsearch.dataset"  # experiment_name(...) of the dataset
TAG_VAL_PROTOCOL = "ltsearch.val_protocol"  # "official-val" | "test-half" | "test"
TAG_STATUS = "ltsearch.status"  # "completed" | "stopped" (early, by ASHA) | "failed" | "running"
TAG_FAILURE = "ltsearch.failure"  # failure reason, one line
TAG_TRIAL_ID = "ltsearch.trial_id"  # Ray Tune trial id (dedup key on resume)
TAG_SEED = "ltsearch.seed"
TAG_SOURCE_SEARCH = "ltsearch.source_search"  # for final runs: search the config came from
TAG_SOURCE_RUN = "ltsearch.source_run"  # for final runs: the trial run id it came from
TAG_NODE = "ltsearch.node_id"  # Ray node id the trial ran on
TAG_USER = "ltsearch.user"
TAG_PAPER_DEFAULT = "ltsearch.paper_default"  # "true" on a trial of the search's paper point (every searched
#                  knob at the paper's value, the first trial a search enqueues), at the run's budget

# --- params / metrics ------------------------------------------------------------------
# Params: the trial config flattened with dots, e.g. "method.params.m_max", "optim.lr".
# Per-epoch metrics (step = epoch): "train/loss", "lr", "val/acc", "val/many", "val/medium",
# "val/few". Final metrics: "test/acc", "test/many", "test/medium", "test/few",
# "best/<metric>" (the search metric at its best epoch of the last stage; with another metric
# than val/acc, "best/val/acc" is the best val/acc of any epoch), "epochs_run".
# Artifacts: "config.yaml" (the full trial config), "per_class.csv".

DEFAULT_TRACKING_DB = "mlflow.db"


def default_tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else a sqlite file under the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / DEFAULT_TRACKING_DB}"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """``uri`` or MLFLOW_TRACKING_URI or ``sqlite:///<cwd>/mlflow.db``; a bare path becomes sqlite."""
    uri = uri or default_tracking_uri()
    if "://" not in uri and not uri.startswith("sqlite:"):
        p = Path(uri).expanduser().resolve()
        uri = f"sqlite:///{p}" if p.suffix == ".db" else p.as_uri()
    return uri


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores)."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///"):])
    return None


def experiment_name(dataset: str, imbalance_ratio: float | None) -> str:
    """``cifar10-lt-ir100``; ``imagenet-lt`` when the dataset has a fixed profile."""
    if imbalance_ratio is None:
        return dataset
    ir = int(imbalance_ratio) if float(imbalance_ratio).is_integer() else imbalance_ratio
    return f"{dataset}-ir{ir}"

# --- added by the search engine ----------------------------------------------------------
TAG_BEST_RUN = "ltsearch.best_run"  # on a search (parent) run: the run id of its best trial

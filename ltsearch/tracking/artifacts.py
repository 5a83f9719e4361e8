"""Report artifacts (heatmap PNG / CSV, importance JSON) attached to a search's parent run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from ltsearch.tracking import default_tracking_uri


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
    from ltsearch.tracking.reader import parent_run

    parent = parent_run(experiment, search_name, tracking_uri)
    if parent is None:
        return None
    log_files(parent["run_id"], paths, artifact_path, tracking_uri)
    return parent["run_id"]


def log_importance(experiment: str, search_name: str, importances: dict[str, float], metric: str,
                   tracking_uri: str | None = None) -> str | None:
    """``importance.json`` ({metric, importances}) on the search's parent run."""
    from mlflow import MlflowClient

    from ltsearch.tracking.reader import parent_run

    parent = parent_run(experiment, search_name, tracking_uri)
    if parent is None:
        return None
    client = MlflowClient(tracking_uri=tracking_uri or default_tracking_uri())
    client.log_text(parent["run_id"], json.dumps({"metric": metric, "importances": importances}, indent=2),
                    "importance.json")
    return parent["run_id"]

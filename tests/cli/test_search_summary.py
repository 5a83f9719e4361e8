"""The end of `ltsearch run`'s summary: the commands to run next read the store the search wrote."""

from __future__ import annotations

import pytest
from rich.console import Console


def _result(uri: str):
    from ltsearch.search.engine import SearchResult

    return SearchResult(name="kps-x", method="kps", dataset="digits-lt", experiment="digits-lt-ir10",
                        metric="val/acc", mode="max", dims=[], trials=[], best_trial_id=None, best_params=None,
                        best_config=None, best_metric=None, best_metrics={}, best_run_id=None, parent_run_id="abc",
                        tracking_uri=uri, storage_dir="trials", optuna_storage=None, study_name=None)


def _next_commands(uri: str) -> list[str]:
    from ltsearch.search.progress import print_summary

    console = Console(width=80, record=True)
    print_summary(_result(uri), console)
    return [line for line in console.export_text().splitlines() if line.startswith("  ltsearch ")]


@pytest.mark.parametrize("env_uri", [None, "sqlite:///{tmp}/team.db"])
def test_next_commands_name_a_store_other_than_the_default(tmp_path, monkeypatch, env_uri):
    """`--tracking-uri other/x.db` (sqlite, not this folder's mlflow.db): `leaderboard`, `confirm`, `export`
    and `train --seeds` as printed read (and write) that store, each on one whole line at 80 columns; the
    default store (./mlflow.db, or MLFLOW_TRACKING_URI) needs no flag."""
    from ltsearch.tracking import resolve_tracking_uri

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    if env_uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", env_uri.format(tmp=tmp_path))
    other = f"sqlite:///{tmp_path / 'elsewhere' / 'x.db'}"
    lines = _next_commands(other)
    assert len(lines) == 3, lines
    assert all(line.count(f"--tracking-uri {other}") == (2 if "train" in line else 1) for line in lines), lines
    assert not any("--tracking-uri" in line for line in _next_commands(resolve_tracking_uri(None)))

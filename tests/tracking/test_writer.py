"""The MLflow writer: schema tags, idempotent params, child-run lookup by trial id, URIs."""

from __future__ import annotations

from pathlib import Path

from mlflow import MlflowClient

from ltsearch.tracking import (
    TAG_KIND,
    TAG_SEARCH,
    TAG_STATUS,
    TAG_TRIAL_ID,
    experiment_name,
)
from ltsearch.tracking.writer import (
    TrackingWriter,
    resolve_tracking_uri,
    search_tags,
    store_dir,
)


def test_uris(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert resolve_tracking_uri(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    assert resolve_tracking_uri().endswith("env.db")
    assert store_dir(f"sqlite:///{tmp_path / 'a' / 'b.db'}") == tmp_path / "a"
    assert experiment_name("cifar10-lt", 100.0) == "cifar10-lt-ir100"


def test_writer_parent_child_dedup_and_artifacts(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    w = TrackingWriter(uri)
    exp = w.experiment_id("digits-lt-ir100")
    assert w.experiment_id("digits-lt-ir100") == exp
    parent = w.create_run(exp, "s1", search_tags("s1", "kps", "digits-lt-ir100", **{TAG_STATUS: "running"}))
    assert w.find_search_run(exp, "s1").info.run_id == parent
    assert w.find_search_run(exp, "other") is None
    child = w.create_run(exp, "s1-t1", {TAG_KIND: "trial", TAG_SEARCH: "s1", TAG_TRIAL_ID: "t1"}, parent=parent)
    w.log_params(child, {"optim.lr": 0.1, "method.params.m_max": 0.5})
    w.log_params(child, {"optim.lr": 0.1, "seed": 0})  # re-logging is skipped, new keys added
    w.log_metrics(child, {"val/acc": 50.0, "bad": float("nan"), "lr": 0.1}, step=1)
    w.log_metrics(child, {"val/acc": 60.0}, step=2)
    w.log_text(child, "a: 1\n", "config.yaml")
    w.set_status(child, "failed", "Traceback...\nTrialDivergedError: loss became nan")
    w.end_run(child, "FAILED")

    kids = w.child_runs(exp, parent)
    assert list(kids) == ["t1"] and kids["t1"].info.run_id == child
    run = MlflowClient(uri).get_run(child)
    assert run.data.params == {"optim.lr": "0.1", "method.params.m_max": "0.5", "seed": "0"}
    assert "bad" not in run.data.metrics and run.data.metrics["val/acc"] == 60.0
    assert run.data.tags[TAG_STATUS] == "failed"
    assert run.data.tags["ltsearch.failure"] == "TrialDivergedError: loss became nan"
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert w.logged_steps(child, "val/acc") == {1, 2}
    assert [a.path for a in MlflowClient(uri).list_artifacts(child)] == ["config.yaml"]
    # artifacts live beside the sqlite store
    assert (Path(tmp_path) / "mlartifacts").is_dir()
    w.delete_runs([child])
    assert w.child_runs(exp, parent) == {}

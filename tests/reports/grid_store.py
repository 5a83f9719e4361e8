"""The report tests' store: a small real digits-lt search logged in a temporary sqlite MLflow store.

The search is real: a 2x2 grid (focal gamma x optim.lr, 1 epoch, ResNet-8) run through the Ray
Tune engine by ``ltsearch heatmap`` into a temporary sqlite store; three more trials (stopped by
ASHA, failed, tuned on test) are logged by hand with the schema of ``ltsearch.tracking``. The
``store`` fixture (conftest.py) makes it once per session.
"""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from ..helpers import tiny_config

EXPERIMENT = "digits-lt-ir10"
SEARCH = "hm-focal"  # the real grid search (gamma x optim.lr) run by `ltsearch heatmap`
EXTRA = "extra"  # hand-logged trials: ASHA-stopped, failed, tuned on test
GRID_X, GRID_Y = (0.0, 2.0), (0.01, 0.05)  # focal gamma, optim.lr


def report_app():
    """The four report commands mounted as in ltsearch/cli/main.py (each carries its error wrapper)."""
    import typer

    from ltsearch.cli import report_cmds

    app = typer.Typer()
    for name in ("leaderboard", "heatmap", "export", "importance"):
        app.command(name)(getattr(report_cmds, name))
    return app


def log_trial(client, exp_id, parent_id, search, cfg, result, history, status="completed", val_protocol=None):
    """A trial run exactly as the search engine logs one (schema of ltsearch.tracking)."""
    from mlflow.entities import Metric, Param

    from ltsearch.config import dump_yaml, flatten
    from ltsearch.tracking import (
        TAG_DATASET,
        TAG_KIND,
        TAG_METHOD,
        TAG_SEARCH,
        TAG_STATUS,
        TAG_TRIAL_ID,
        TAG_VAL_PROTOCOL,
    )

    tags = {TAG_KIND: "trial", TAG_SEARCH: search, TAG_METHOD: cfg["method"]["name"], TAG_DATASET: EXPERIMENT,
            TAG_VAL_PROTOCOL: val_protocol or "test-half", TAG_STATUS: status,
            TAG_TRIAL_ID: f"t{time.perf_counter_ns()}", "mlflow.parentRunId": parent_id}
    rid = client.create_run(exp_id, tags=tags).info.run_id
    now = int(time.time() * 1000)
    client.log_batch(rid, params=[Param(k, "null" if v is None else str(v)) for k, v in flatten(cfg).items()])
    metrics = [Metric(k, float(v), now, int(ep)) for ep, m in history for k, v in m.items()]
    if result:
        metrics += [Metric(k, float(v), now, 0) for k, v in result.items()]
    client.log_batch(rid, metrics=metrics)
    client.log_text(rid, dump_yaml(cfg), "config.yaml")
    client.set_terminated(rid, "FAILED" if status == "failed" else "FINISHED")
    return rid


def make_store(root: Path) -> dict:
    """A real 2x2 grid search on digits-lt (focal: gamma x optim.lr, 1 epoch, ResNet-8, in the
    session's local Ray with 2 CPUs) run by `ltsearch heatmap` into ``root/mlflow.db``, plus three
    hand-logged trials."""
    from mlflow import MlflowClient

    from ltsearch.tracking import TAG_KIND, TAG_SEARCH
    from ltsearch.tracking.final import ensure_experiment

    uri = f"sqlite:///{root / 'mlflow.db'}"
    png = root / "heatmap.png"
    res = CliRunner().invoke(report_app(), [
        "heatmap", "focal", "--dataset", "digits-lt", "--imbalance-ratio", "10",
        "--x", "gamma=" + ",".join(map(str, GRID_X)), "--y", "optim.lr=" + ",".join(map(str, GRID_Y)),
        "--epochs", "1", "--groups", "--name", SEARCH, "--storage-path", str(root / "trials"), "--num-cpus", "2",
        "--set", "model.name=resnet8", "--set", "device=cpu", "--set", "schedule.warmup_epochs=0",
        "--set", "optim.batch_size=64", "--tracking-uri", uri, "--output", str(png)])
    assert res.exit_code == 0, res.output
    client = MlflowClient(tracking_uri=uri)
    exp_id = ensure_experiment(client, EXPERIMENT, uri)
    parent = client.create_run(exp_id, tags={TAG_KIND: "search", TAG_SEARCH: EXTRA}, run_name=EXTRA).info.run_id
    logged = {"uri": uri, "root": root, "png": png, "heatmap_output": res.output, "extra_parent": parent}
    # stopped by ASHA after 2 of 3 epochs; its best epoch (1) is not its last; no few-shot test number
    cfg = tiny_config("kps", epochs=3, m_max=0.3, s_base=15.0)
    hist = [(1, {"val/acc": 31.0, "val/many": 90.0, "val/medium": 20.0, "val/few": 1.0}),
            (2, {"val/acc": 12.5, "val/many": 80.0, "val/medium": 5.0, "val/few": 0.0})]
    res = {"test/acc": 30.0, "test/many": 88.0, "test/medium": 21.0, "best/val/acc": 31.0, "epochs_run": 2}
    logged["stopped"] = log_trial(client, exp_id, parent, EXTRA, cfg, res, hist, status="stopped")
    # failed (diverged): never shown, even with a high val number
    cfg = tiny_config("kps", epochs=1, m_max=1.9, s_base=90.0)
    logged["failed"] = log_trial(client, exp_id, parent, EXTRA, cfg, None, [(1, {"val/acc": 99.0})],
                                 status="failed")
    # tuned on the test set (the papers' protocol)
    cfg = tiny_config("ce", epochs=1)
    cfg["dataset"]["val"] = "test"
    hist = [(1, {"val/acc": 25.0, "val/many": 95.0, "val/medium": 10.0})]
    res = {"test/acc": 25.0, "test/many": 95.0, "test/medium": 10.0, "best/val/acc": 25.0, "epochs_run": 1}
    logged["on_test"] = log_trial(client, exp_id, parent, EXTRA, cfg, res, hist, val_protocol="test")
    client.set_terminated(parent, "FINISHED")
    return logged


def grid_runs(store) -> list[dict]:
    """The grid search's trial runs, straight from MLflow: params, val/acc history, test metrics."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=store["uri"])
    exp = client.get_experiment_by_name(EXPERIMENT)
    out = []
    for run in client.search_runs([exp.experiment_id], f"tags.`ltsearch.search` = '{SEARCH}' and "
                                                       f"tags.`ltsearch.kind` = 'trial'"):
        hist = client.get_metric_history(run.info.run_id, "val/acc")
        out.append({"run_id": run.info.run_id, "gamma": float(run.data.params["method.params.gamma"]),
                    "lr": float(run.data.params["optim.lr"]), "best": max(m.value for m in hist),
                    "metrics": run.data.metrics})
    return out

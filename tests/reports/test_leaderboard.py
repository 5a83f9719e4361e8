"""Leaderboard from a small real digits-lt search logged in a temporary sqlite MLflow store.

The search is real: a 2x2 grid (focal gamma x optim.lr, 1 epoch, ResNet-8) run through the Ray
Tune engine by ``ltsearch heatmap`` into a temporary sqlite store; three more trials (stopped by
ASHA, failed, tuned on test) are logged by hand with the schema of ``ltsearch.tracking``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
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


runner = CliRunner()


def _log_trial(client, exp_id, parent_id, search, cfg, result, history, status="completed", val_protocol=None):
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


_STORE: dict = {}


def make_store(root: Path) -> dict:
    """A real 2x2 grid search on digits-lt (focal: gamma x optim.lr, 1 epoch, ResNet-8, in the
    session's local Ray with 2 CPUs) run by `ltsearch heatmap` into ``root/mlflow.db``, plus three
    hand-logged trials."""
    from mlflow import MlflowClient

    from ltsearch.tracking import TAG_KIND, TAG_SEARCH
    from ltsearch.tracking.final import ensure_experiment

    uri = f"sqlite:///{root / 'mlflow.db'}"
    png = root / "heatmap.png"
    res = runner.invoke(report_app(), [
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
    logged["stopped"] = _log_trial(client, exp_id, parent, EXTRA, cfg, res, hist, status="stopped")
    # failed (diverged): never shown, even with a high val number
    cfg = tiny_config("kps", epochs=1, m_max=1.9, s_base=90.0)
    logged["failed"] = _log_trial(client, exp_id, parent, EXTRA, cfg, None, [(1, {"val/acc": 99.0})],
                                  status="failed")
    # tuned on the test set (the papers' protocol)
    cfg = tiny_config("ce", epochs=1)
    cfg["dataset"]["val"] = "test"
    hist = [(1, {"val/acc": 25.0, "val/many": 95.0, "val/medium": 10.0})]
    res = {"test/acc": 25.0, "test/many": 95.0, "test/medium": 10.0, "best/val/acc": 25.0, "epochs_run": 1}
    logged["on_test"] = _log_trial(client, exp_id, parent, EXTRA, cfg, res, hist, val_protocol="test")
    client.set_terminated(parent, "FINISHED")
    return logged


def shared_store(tmp_path_factory) -> dict:
    """One store per test session (the grid search is the slow part), shared by the report tests."""
    if not _STORE:
        _STORE.update(make_store(tmp_path_factory.mktemp("mlstore")))
    return _STORE


@pytest.fixture(scope="session")
def store(tmp_path_factory, ray_session):
    return shared_store(tmp_path_factory)


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


def test_ranks_rows_in_metric_order_with_groups_refs_and_markers(store):
    from ltsearch.reports import leaderboard

    board = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])
    assert board.experiment == EXPERIMENT
    ranked = board.ranked
    ids = {r["run_id"] for r in ranked}
    assert store["failed"] not in ids  # failed trials excluded
    assert store["stopped"] in ids  # stopped-early included
    # ranked within each budget (model, epochs, val protocol), never across budgets
    groups = board.groups
    assert {label for label, _ in groups} == {"resnet8, 1 epochs, val test-half", "resnet8, 3 epochs, val test-half",
                                              "resnet8, 1 epochs, val test"}
    assert groups[0][0] == "resnet8, 3 epochs, val test-half"  # the largest budget first
    for _, rows in groups:
        vals = [r["val"] for r in rows]
        assert vals == sorted(vals, reverse=True)
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    runs = grid_runs(store)
    assert len(runs) == 4 and {r["run_id"] for r in runs} <= ids
    for t in runs:
        row = next(r for r in ranked if r["run_id"] == t["run_id"])
        assert row["val"] == pytest.approx(t["best"])
        for g in ("acc", "many", "medium", "few"):
            want = t["metrics"].get(f"test/{g}")
            assert row[f"test_{g}"] == (None if want is None else pytest.approx(want))
        assert row["params"]["gamma"] == t["gamma"] and row["params"]["optim.lr"] == t["lr"]
        assert row["search"] == SEARCH and row["epochs"] == 1 and row["kind"] == "trial"
    stopped = next(r for r in ranked if r["run_id"] == store["stopped"])
    assert stopped["val"] == 31.0 and stopped["best_epoch"] == 1 and stopped["epochs"] == 2
    assert stopped["status"] == "stopped" and stopped["test_few"] is None
    on_test = next(r for r in ranked if r["run_id"] == store["on_test"])
    assert on_test["tuned_on_test"] and not stopped["tuned_on_test"]
    # the table shows an empty group as a dash, never 0
    md = leaderboard.to_markdown(board)
    table = leaderboard.parse_markdown_table(md)
    st = next(r for r in table if r["run"] == store["stopped"][:8])
    assert st["few"] == "—" and st["tuned on test"] == ""
    assert next(r for r in table if r["run"] == store["on_test"][:8])["tuned on test"] == "yes"
    # reference rows: the papers' numbers (none for digits: check on the rows of cifar10-lt IR 100)
    refs = leaderboard.reference_rows("cifar10-lt", 100)
    assert refs and all(r["rank"] == "ref" and r["kind"] == "paper" for r in refs)
    assert any(r["method"] == "kps" and r["test_acc"] == 81.23 for r in refs)


def test_reference_rows_are_not_ranked(store, monkeypatch):
    from ltsearch import presets
    from ltsearch.reports import leaderboard

    fake = [{"method": "kps", "acc": 99.5, "many": 99.0, "medium": 98.0, "few": None, "source": "Paper T1",
             "model": "resnet32"}]
    monkeypatch.setattr(presets, "reported_rows", lambda d, r=None: [dict(x) for x in fake])
    board = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])
    assert board.rows[-1]["kind"] == "paper" and board.rows[-1]["rank"] == "ref"
    assert board.rows[0]["kind"] != "paper" and board.rows[0]["rank"] == 1  # 99.5 is not ranked first
    cells = leaderboard.parse_markdown_table(leaderboard.to_markdown(board))[-1]
    assert cells["rank"] == "ref" and cells["kind"] == "paper" and cells["test"] == "99.50" and cells["few"] == "—"


def test_formats_parse_back(store):
    from ltsearch.reports import leaderboard

    board = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])
    # CSV round trip
    back = leaderboard.read_csv(leaderboard.to_csv(board))
    assert len(back) == len(board.rows)
    for row, rec in zip(board.rows, back):
        assert rec["rank"] == row["rank"] and rec["run_id"] == (row["run_id"] or None)
        for g in leaderboard.GROUPS:
            want = row[f"test_{g}"]
            assert rec[f"test/{g}"] == (None if want is None else pytest.approx(want, abs=0.005))
        assert rec["val/acc"] == pytest.approx(row["val"], abs=0.005)
    # JSON round trip
    data = json.loads(leaderboard.to_json(board))
    assert data["experiment"] == EXPERIMENT and [r["run_id"] for r in data["rows"]] == [r["run_id"] for r in board.rows]
    assert data["rows"][0]["val"] == pytest.approx(board.rows[0]["val"])
    # markdown table: header + one line per row
    table = leaderboard.parse_markdown_table(leaderboard.to_markdown(board))
    assert [t["rank"] for t in table] == [str(r["rank"]) for r in board.rows]
    # deterministic
    assert leaderboard.to_markdown(board) == leaderboard.to_markdown(
        leaderboard.build("digits-lt", 10, tracking_uri=store["uri"]))
    html = leaderboard.to_html(board)
    assert html.count('<tr class="row') == len(board.ranked) and html.count('<tr class="budget"') == len(board.groups)
    assert "<script>" in html and "addEventListener" in html


def test_cli_leaderboard_formats_top_method_and_export(store, tmp_path, monkeypatch):
    app = report_app()
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--imbalance-ratio", "10",
                              "--tracking-uri", store["uri"], "--format", "json", "--top", "2", "--method", "focal"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["rank"] for r in rows] == [1, 2] and all(r["method"] == "focal" for r in rows)
    out = tmp_path / "lb.csv"
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"],
                              "--format", "csv", "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert list(csv.DictReader(io.StringIO(out.read_text())))[0]["rank"] == "1"
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"]])
    assert res.exit_code == 0 and "tuned on test" in res.stdout and "focal" in res.stdout
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"], "--export"])
    assert res.exit_code == 0, res.output
    md = (tmp_path / "leaderboards" / f"{EXPERIMENT}.md").read_text()
    assert md.startswith(f"# Leaderboard: {EXPERIMENT}")
    assert (tmp_path / "leaderboards" / f"{EXPERIMENT}.csv").is_file()
    res = runner.invoke(app, ["leaderboard", "--dataset", "cifar10-lt", "--tracking-uri", store["uri"],
                              "--format", "markdown"])
    assert res.exit_code == 0 and "81.23" in res.stdout and "ref" in res.stdout  # paper rows with no runs


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_html_opens_in_headless_chromium(store, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    from ltsearch.reports import leaderboard

    page = tmp_path / "lb.html"
    page.write_text(leaderboard.to_html(leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])))
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
           f"--screenshot={shot}", "--window-size=1200,800", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert shot.is_file(), proc.stderr[-2000:]
    img = mpimg.imread(shot)
    assert img.shape[0] == 800 and img.shape[1] == 1200
    rgb = img[..., :3]
    # the table is drawn: the header row's background colour (#f0f3f7) and dark text are on the page
    header = np.all(np.abs(rgb - np.array([0xF0, 0xF3, 0xF7]) / 255) < 0.02, axis=-1)
    assert header.sum() > 2000
    assert (rgb.mean(axis=-1) < 0.3).sum() > 500

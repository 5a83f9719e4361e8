"""`ltsearch searches` and `ltsearch compare` on a temporary sqlite MLflow store logged with the
schema of ltsearch.tracking (two searches, parents with epochs_consumed, trials of each state)."""

from __future__ import annotations

import json
import time

from typer.testing import CliRunner

from ltsearch.cli.main import app

runner = CliRunner()


def _store(tmp_path, epochs: dict | None = None) -> str:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from ltsearch.tracking import TAG_KIND, TAG_METHOD, TAG_SEARCH, TAG_STATUS
    from ltsearch.tracking.final import ensure_experiment

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = ensure_experiment(client, "digits-lt-ir10", uri)
    now = int(time.time() * 1000)
    for search, lr_best, consumed in (("sa", 0.05, 9), ("sb", 0.2, 4)):
        parent = client.create_run(exp, tags={TAG_KIND: "search", TAG_SEARCH: search, TAG_METHOD: "ce",
                                              TAG_STATUS: "completed"}).info.run_id
        client.log_batch(parent, metrics=[Metric("epochs_consumed", consumed, now, 0)])
        for lr, val, status in ((lr_best, 40.0 if search == "sa" else 35.0, "completed"), (0.5, 20.0, "stopped"),
                                (1.0, 0.0, "failed")):
            rid = client.create_run(exp, tags={TAG_KIND: "trial", TAG_SEARCH: search, TAG_METHOD: "ce",
                                               TAG_STATUS: status, "mlflow.parentRunId": parent}).info.run_id
            client.log_batch(rid, params=[Param("optim.lr", str(lr)), Param("epochs", str((epochs or {}).get(search, 3))),
                                          Param("model.name", "resnet8")],
                             metrics=[Metric("best/val/acc", val, now, 0)])
            client.set_terminated(rid, "FAILED" if status == "failed" else "FINISHED")
        client.set_terminated(parent, "FINISHED")
    return uri


def test_searches_and_compare(tmp_path):
    uri = _store(tmp_path)
    res = runner.invoke(app, ["searches", "--tracking-uri", uri, "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["searches"]}
    assert set(rows) == {"sa", "sb"}
    sa = rows["sa"]
    assert (sa["method"], sa["status"], sa["completed"], sa["stopped"], sa["failed"]) == ("ce", "completed", 1, 1, 1)
    assert sa["best"] == 40.0 and sa["epochs_consumed"] == 9 and rows["sb"]["epochs_consumed"] == 4
    res = runner.invoke(app, ["searches", "--tracking-uri", uri, "-d", "digits-lt"])
    assert res.exit_code == 0 and "sa" in res.stdout and "40.00" in res.stdout
    res = runner.invoke(app, ["compare", "sa", "sb", "--tracking-uri", uri, "--json"])
    assert res.exit_code == 0, res.output
    diff = json.loads(res.stdout)["config_diff"]
    assert diff == [{"key": "optim.lr", "a": 0.05, "b": 0.2}]
    res = runner.invoke(app, ["compare", "sa", "ghost", "--tracking-uri", uri])
    assert res.exit_code == 2 and "ghost" in res.output and "sa" in res.output


def test_compare_shows_each_runs_budget_and_warns_when_they_differ(tmp_path):
    """A 3-epoch search's best beside a 4-epoch one's: the budget row says so and a note warns that the
    two values are not comparable (the leaderboard never ranks them together); one budget, no note."""
    for epochs, differ in (({"sa": 3, "sb": 4}, True), ({"sa": 3, "sb": 3}, False)):
        uri = _store(tmp_path / str(differ), epochs)
        res = runner.invoke(app, ["compare", "sa", "sb", "--tracking-uri", uri])
        assert res.exit_code == 0, res.output
        assert "resnet8, 3 epochs, val split" in res.output
        assert ("resnet8, 4 epochs, val split" in res.output) == differ
        assert ("not comparable" in res.output) == differ, res.output
        res = runner.invoke(app, ["compare", "sa", "sb", "--tracking-uri", uri, "--json"])
        out = json.loads(res.stdout)
        assert (out["a"]["budget"]["epochs"], out["b"]["budget"]["epochs"]) == (3, epochs["sb"])


def test_compare_takes_the_short_run_ids_the_tables_print(tmp_path):
    from mlflow import MlflowClient

    uri = _store(tmp_path)
    c = MlflowClient(tracking_uri=uri)
    runs = c.search_runs([e.experiment_id for e in c.search_experiments()], max_results=100)
    trials = [r for r in runs if r.data.tags.get("ltsearch.kind") == "trial"]
    a, b = trials[0].info.run_id, trials[1].info.run_id
    res = runner.invoke(app, ["compare", a[:8], b[:8], "--tracking-uri", uri, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["config_diff"]  # the two runs, found by their first 8 characters
    res = runner.invoke(app, ["compare", "0000abcd", b[:8], "--tracking-uri", uri])
    assert res.exit_code == 2 and "'0000abcd' is neither a search nor a run id" in res.output


def test_searches_of_another_dataset_say_which_there_are(tmp_path):
    uri = _store(tmp_path)
    res = runner.invoke(app, ["searches", "--tracking-uri", uri, "-d", "cifar10-lt"])
    assert res.exit_code == 0 and "no searches of cifar10-lt" in res.output and "digits-lt-ir10" in res.output


def test_importance_of_a_flat_search_says_there_is_nothing_to_attribute(tmp_path):
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from ltsearch.tracking import TAG_KIND, TAG_METHOD, TAG_SEARCH, TAG_STATUS
    from ltsearch.tracking.final import ensure_experiment

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = ensure_experiment(client, "digits-lt-ir10", uri)
    now = int(time.time() * 1000)
    for lr in (0.01, 0.05, 0.1, 0.2):  # every config at chance: 10.00
        rid = client.create_run(exp, tags={TAG_KIND: "trial", TAG_SEARCH: "flat", TAG_METHOD: "ce",
                                           TAG_STATUS: "completed"}).info.run_id
        client.log_batch(rid, params=[Param("optim.lr", str(lr)), Param("epochs", "2"), Param("model.name", "resnet8")],
                         metrics=[Metric("best/val/acc", 10.0, now, 0)])
        client.set_terminated(rid, "FINISHED")
    res = runner.invoke(app, ["importance", "-d", "digits-lt", "--name", "flat", "--tracking-uri", uri, "--no-log",
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["importances"] == {"optim.lr": 0.0}
    assert "scored the same val/acc" in out["warning"] and "nothing to attribute" in out["warning"]


def test_compare_says_a_final_run_is_one_seed(tmp_path):
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from ltsearch.tracking import TAG_KIND, TAG_METHOD

    uri = _store(tmp_path)
    c = MlflowClient(tracking_uri=uri)
    exp = c.get_experiment_by_name("digits-lt-ir10").experiment_id
    rid = c.create_run(exp, tags={TAG_KIND: "final", TAG_METHOD: "ce"}).info.run_id
    c.log_batch(rid, params=[Param("optim.lr", "0.05"), Param("seed", "1")],
                metrics=[Metric("best/val/acc", 41.0, int(time.time() * 1000), 0)])
    res = runner.invoke(app, ["compare", "sa", rid[:8], "--tracking-uri", uri])
    said = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert f"{rid[:8]} (final run, seed 1; the leaderboard shows the seeds' mean)" in said


def test_searches_in_a_narrow_terminal_cut_no_value(tmp_path):
    """At 80 columns the table no longer fits (names are long): one block per search, every value
    whole (never `40…`, `com…` or `20…`), no row wider than the terminal; a wide one keeps the table."""
    from ..helpers import cli_process

    uri = _store(tmp_path)
    for columns in (80, 200):
        proc = cli_process(["searches", "--tracking-uri", uri], cwd=tmp_path, env={"COLUMNS": str(columns)})
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        assert "…" not in out, out
        assert all(len(line) <= columns for line in out.splitlines()[1:]), out  # [0]: the store's path, whole
        for value in ("sa", "sb", "completed", "40.00", "35.00", "digits-lt-ir10", time.strftime("%Y-%m-%d")):
            assert value in out, (value, out)
        assert ("┃ name" in out) == (columns == 200), out

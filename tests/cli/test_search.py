"""The search CLI: one-line errors that write nothing, spaces commands, and a search killed
mid-way and resumed (real processes, real Ray, real sqlite MLflow)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ltsearch.cli import search_cmds

from ..helpers import cli_process


def app() -> typer.Typer:
    a = typer.Typer()
    a.command("run")(search_cmds.run)
    a.add_typer(search_cmds.spaces_app, name="spaces")
    return a


def test_invalid_space_file_one_line_exit_2_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: kps\nparams:\n  m_max: {type: float, low: 0.1, high: 9}\n")
    res = CliRunner().invoke(app(), ["run", "kps", "--space", str(bad)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.output
    assert "bad.yaml" in lines[0] and "m_max" in lines[0] and "[0, 2]" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # no mlflow.db, no trials/


def test_invalid_flags_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for args, needle in ([["run", "kps", "--search", "bayes"], "--search 'bayes'"],
                         [["run", "kps", "--param", "m_max=0.1:5"], "m_max"],
                         [["run", "kps", "--metric", "test/acc"], "never tunes on test"],
                         [["run", "kps", "--metric", "val/nope"], "'val/nope' is not one a trial reports"],
                         [["run", "kps", "--resume", "--name", "nothing"], "no search named 'nothing'"],
                         [["run", "nope"], "unknown method"]):
        res = runner.invoke(app(), args)
        assert res.exit_code == 2, (args, res.output)
        assert needle in res.output, (args, res.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_spaces_commands(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app(), ["spaces", "list"])
    assert res.exit_code == 0 and "kps" in res.output and "lwr" in res.output
    res = runner.invoke(app(), ["spaces", "show", "kps", "--dataset", "imagenet-lt"])
    assert res.exit_code == 0 and "m_max" in res.output and "0.35" in res.output
    res = runner.invoke(app(), ["spaces", "new", "lwr"])
    assert res.exit_code == 0 and "lambda_milestone" in res.output
    (tmp_path / "mine.yaml").write_text(res.output)
    res = runner.invoke(app(), ["spaces", "show", "lwr", "--space", str(tmp_path / "mine.yaml"), "--yaml"])
    assert res.exit_code == 0 and "lambda_schedule" in res.output


def _children(db: Path, search: str):
    from mlflow import MlflowClient

    from ltsearch.tracking import TAG_KIND, TAG_SEARCH

    client = MlflowClient(f"sqlite:///{db}")
    exp = client.get_experiment_by_name("digits-lt-ir10")
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.`{TAG_SEARCH}` = '{search}'")
    return [r for r in runs if r.data.tags[TAG_KIND] == "trial"], [r for r in runs if r.data.tags[TAG_KIND] == "search"]


@pytest.mark.slow
def test_killed_search_resumes_without_losing_or_duplicating_trials(tmp_path):
    args = ["run", "ce", "--trials", "3", "--epochs", "2", "--max-concurrent", "1", "--scheduler", "none",
            "--name", "kr", "--no-live"]
    proc = cli_process(args, tmp_path)
    trials_dir = tmp_path / "trials" / "kr" / "trials"
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if list(trials_dir.glob("*/result.json")):
                break
            if proc.poll() is not None:
                pytest.fail("search ended before it could be interrupted:\n" + proc.stdout.read())
            time.sleep(0.2)
        else:
            pytest.fail("no trial finished in time")
        time.sleep(1.0)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray it started
        proc.wait()
    done_before = len(list(trials_dir.glob("*/result.json")))
    assert done_before < 3

    res = cli_process(["run", "ce", "--name", "kr", "--resume", "--no-live"], tmp_path)  # its own flags: 3 x 2 epochs
    out, _ = res.communicate(timeout=300)
    assert res.returncode == 0, out
    assert "best config" in out
    assert "search kr: 3 configs, scheduler none" in out
    children, parents = _children(tmp_path / "mlflow.db", "kr")
    assert len(parents) == 1
    ids = [c.data.tags["ltsearch.trial_id"] for c in children]
    assert len(ids) == 3 and len(set(ids)) == 3, ids
    assert all(c.data.tags["ltsearch.status"] == "completed" for c in children)
    for c in children:  # one value per epoch, no duplicates from the re-run
        from mlflow import MlflowClient

        hist = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").get_metric_history(c.info.run_id, "val/acc")
        assert sorted(m.step for m in hist) == [1, 2], [(m.step, m.value) for m in hist]
    assert parents[0].data.tags["ltsearch.status"] == "completed"
    assert len(list(trials_dir.glob("*/result.json"))) == 3


@pytest.mark.slow
def test_run_kps_with_no_flags_prints_best_config(tmp_path):
    proc = cli_process(["run", "kps"], tmp_path)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "best config" in out and "m_max" in out
    assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "optuna.db").is_file()


def test_spaces_show_prints_the_base_overrides_unbroken_in_a_narrow_terminal():
    """The base-config overrides are YAML to copy: a narrow terminal must not break their lines."""
    import yaml

    from ..helpers import cli_process

    proc = cli_process(["spaces", "show", "kps"], cwd=Path.cwd(), env={"COLUMNS": "60"})
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    from ltsearch.config import dump_yaml
    from ltsearch.search.space import load_space

    base = load_space("kps").base
    assert dump_yaml(base) in out, out  # a hard wrap left "column, ga_start: 0.6, margins: paper}" at column 0
    assert yaml.safe_load(out.split("base config overrides:", 1)[1]) == base

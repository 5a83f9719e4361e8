"""A search killed at any moment resumes and loses and duplicates nothing (issue 15, item 3).

Each case runs a real ``sh`` search (digits-lt, 4 configs, budgets 1/2/4 epochs) in a child
process, stops it at a fault point (``ltsearch.search.faults``) with SIGKILL, SIGTERM or SIGINT,
then reruns it with ``resume=True`` and compares the three records with the trial folders:
every run's MLflow ``val/acc`` history equals its ``metrics.jsonl`` epoch for epoch, no run is
left RUNNING, the parent's summary is written once, Optuna holds 1 COMPLETE + 3 PRUNED.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DRIVER = textwrap.dedent("""
    import sys
    from ltsearch.search.engine import SearchInterrupted, run_search
    from ltsearch.search.request import SearchRequest
    root = sys.argv[1]
    req = SearchRequest(method="kps", name="kr", search="random", trials=4, epochs=4, scheduler="sh",
                        rungs=[0.25, 0.5], grace_period=1, reduction_factor=2, max_concurrent=2,
                        tracking_uri=f"sqlite:///{root}/mlflow.db", storage_path=f"{root}/trials", display=False,
                        resume=sys.argv[2] == "resume", num_cpus=2)
    try:
        result = run_search(req)
    except SearchInterrupted as err:
        sys.exit(err.exit_code)
    print("BEST", result.best_trial_id, result.best_metric, result.epochs_consumed)
""")

CASES = [("open:1", "KILL", -9), ("ray:1", "KILL", -9), ("epoch:3", "KILL", -9), ("epoch:3", "TERM", 143),
         ("epoch:2", "INT", 130), ("run-done:5", "KILL", -9), ("close:1", "KILL", -9)]


def _drive(tmp_path: Path, mode: str, fault: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}
    env.pop("LTSEARCH_FAULT", None)
    if fault:
        env["LTSEARCH_FAULT"] = fault
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), mode], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=600)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the Ray processes a killed driver leaves behind
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


@pytest.mark.slow
@pytest.mark.parametrize("point, sig, code", CASES, ids=[f"{p}-{s}" for p, s, _ in CASES])
def test_sh_search_stopped_anywhere_resumes_exactly(tmp_path, point, sig, code):
    import optuna
    from mlflow import MlflowClient

    first = _drive(tmp_path, "new", f"{point}:{sig}")
    assert first.returncode == code, first.stdout[-2000:]
    second = _drive(tmp_path, "resume", None)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "BEST" in second.stdout

    state = json.loads((tmp_path / "trials" / "kr" / "search.json").read_text())
    assert state["status"] == "completed"
    assert sorted(r["rung"] for r in state["runs"].values()) == [0, 0, 0, 0, 1, 1, 2]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("digits-lt-ir10")
    runs = client.search_runs([exp.experiment_id])
    assert all(r.info.status != "RUNNING" for r in runs), [(r.info.run_name, r.info.status) for r in runs]
    parents = [r for r in runs if r.data.tags["ltsearch.kind"] == "search"]
    children = {r.data.tags["ltsearch.trial_id"]: r for r in runs if r.data.tags["ltsearch.kind"] == "trial"}
    assert len(parents) == 1 and sorted(children) == sorted(state["runs"])
    assert len(client.get_metric_history(parents[0].info.run_id, "trials/total")) == 1  # the summary, once
    assert parents[0].data.tags["ltsearch.status"] == "completed"
    for rid, run in children.items():
        rows = [json.loads(ln) for ln in (tmp_path / "trials" / "kr" / "trials" / rid / "metrics.jsonl").read_text()
                .splitlines()]
        assert [r["epoch"] for r in rows] == list(range(1, state["runs"][rid]["budget"] + 1))
        hist = client.get_metric_history(run.info.run_id, "val/acc")
        assert sorted((m.step, m.value) for m in hist) == [(r["epoch"], pytest.approx(r["val/acc"])) for r in rows]
        assert run.data.tags["ltsearch.status"] == "completed"
    study = optuna.load_study(study_name="kr", storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE", "PRUNED", "PRUNED", "PRUNED"]

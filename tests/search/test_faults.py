"""Faults during a real search (real Ray, real sqlite MLflow, real configs; slow, run with -m slow):
a trial worker SIGKILLed mid-trial is retried (--retries) and the search still ends with the
requested trials, each logged once; diverging trials are recorded FAILED with the reason; a
search whose every trial fails exits non-zero and says why."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from ..helpers import cli_process


def _children(db, search: str, experiment=None):
    from ltsearch.tracking import TAG_KIND, TAG_SEARCH

    client = MlflowClient(f"sqlite:///{db}")
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps, filter_string=f"tags.`{TAG_SEARCH}` = '{search}'")
    return [r for r in runs if r.data.tags[TAG_KIND] == "trial"], [r for r in runs if r.data.tags[TAG_KIND] == "search"]

pytestmark = pytest.mark.slow
DIVERGE = ["--fix", "optim.lr=10", "--fix", "optim.momentum=0.99", "--fix", "optim.batch_size=32"]  # + wd 1: NaN, epoch 1


def _trial_workers(root_pid: int) -> list[int]:
    """Pids of the Ray worker processes (of the driver's own Ray, same session) running a trial
    (read from /proc: psutil is not a dependency)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "ray::" in cmd and ("ImplicitFunc" in cmd or "search_trial" in cmd) and "IDLE" not in cmd \
                    and os.getsid(int(d.name)) == os.getsid(root_pid):
                out.append(int(d.name))
        except (OSError, ProcessLookupError):
            continue
    return out


def test_sigkilled_trial_worker_is_retried_and_nothing_is_lost(tmp_path):
    args = ["run", "ce", "--trials", "2", "--epochs", "3", "--max-concurrent", "1", "--scheduler", "none",
            "--retries", "2", "--name", "wk", "--no-live"]
    proc = cli_process(args, tmp_path)
    trials_dir = tmp_path / "trials" / "wk" / "trials"
    killed = None
    deadline = time.time() + 300
    try:
        while time.time() < deadline and killed is None:
            if proc.poll() is not None:
                pytest.fail("search ended before a worker could be killed:\n" + proc.stdout.read())
            started = [p for p in trials_dir.glob("*/metrics.jsonl") if p.read_text().count("\n") >= 1]
            workers = _trial_workers(proc.pid) if started else []
            if workers:
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)  # the trial's process dies mid-trial
            time.sleep(0.2)
        assert killed is not None, "no trial worker found"
        out, _ = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    children, parents = _children(tmp_path / "mlflow.db", "wk", experiment=None)
    ids = [c.data.tags["ltsearch.trial_id"] for c in children]
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    assert all(c.data.tags["ltsearch.status"] == "completed" for c in children), [c.data.tags for c in children]
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    for c in children:  # one point per epoch: the retried trial resumed from its checkpoint, no duplicate
        steps = sorted(m.step for m in client.get_metric_history(c.info.run_id, "val/acc"))
        assert steps == [1, 2, 3], steps
    assert parents[0].data.tags["ltsearch.status"] == "completed"
    from ray.tune import ExperimentAnalysis

    trials = ExperimentAnalysis(str(tmp_path / "trials" / "wk" / "tune" / "session-1")).trials
    assert sum(t.num_failures for t in trials) >= 1  # Tune saw the dead worker and re-ran its trial

    # resuming with another space is refused (one line, exit 2), the finished search is untouched
    again = cli_process(args + ["--resume", "--param", "optim.lr=0.01:0.02"], tmp_path)
    out, _ = again.communicate(timeout=200)
    assert again.returncode == 2, out
    assert "error: --resume: search 'wk' started with no --param, not --param optim.lr=0.01:0.02; drop --param" in out
    assert len(_children(tmp_path / "mlflow.db", "wk")[0]) == 2


def test_diverging_trial_is_failed_with_reason_and_the_search_goes_on(tmp_path):
    args = ["run", "ce", "--search", "grid", "--epochs", "1", "--scheduler", "none", "--name", "dv", "--no-live",
            *DIVERGE, "--param", "optim.weight_decay=0.0005,1.0"]
    proc = cli_process(args, tmp_path)
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out
    assert "1 completed" in out and "1 failed" in out, out
    children, parents = _children(tmp_path / "mlflow.db", "dv", experiment=None)
    status = sorted(c.data.tags["ltsearch.status"] for c in children)
    assert status == ["completed", "failed"], status
    failed = next(c for c in children if c.data.tags["ltsearch.status"] == "failed")
    reason = failed.data.tags["ltsearch.failure"]
    assert "TrialDivergedError" in reason and "nan" in reason and "\n" not in reason, reason
    assert failed.info.status == "FAILED"
    assert parents[0].data.metrics["trials/failed"] == 1 and parents[0].data.metrics["trials/completed"] == 1


def test_every_trial_failing_exits_1_and_says_why(tmp_path):
    args = ["run", "ce", "--search", "random", "--trials", "1", "--epochs", "1", "--scheduler", "none",
            "--name", "allfail", "--no-live", "--fix", "optim.lr=10", "--fix", "optim.weight_decay=1.0",
            "--fix", "optim.batch_size=32", "--param", "optim.momentum=0.99,0.995"]
    proc = cli_process(args, tmp_path)
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 1, out
    last = [ln for ln in out.strip().splitlines() if ln.strip()][-1]
    assert last.startswith("error: all 1 trials failed") and "TrialDivergedError" in last, last
    assert "Traceback" not in out.split("error: all")[-1]

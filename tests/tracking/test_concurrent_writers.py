"""Many writers, one sqlite MLflow store: no metric point lost, no "database is locked" escapes.

8 processes (separate sqlite connections, as 8 trial drivers on one machine would have) and
8 threads (one writer each) log trials x epochs x metrics at once; every point is counted back.
"""

from __future__ import annotations

import multiprocessing as mp
import threading

import pytest

TRIALS, EPOCHS, METRICS = 8, 6, 5


def _write(uri: str, exp_name: str, trial: int, barrier=None) -> str:
    from ltsearch.tracking.writer import TrackingWriter

    w = TrackingWriter(uri)
    exp = w.experiment_id(exp_name)
    rid = w.create_run(exp, f"t{trial}", {"ltsearch.kind": "trial", "ltsearch.trial_id": f"t{trial}"})
    w.log_params(rid, {"optim.lr": 0.1 * (trial + 1), "trial": trial})
    if barrier is not None:
        barrier.wait()
    for epoch in range(1, EPOCHS + 1):  # one batch per epoch, as the search callback does
        w.log_metrics(rid, {f"m{k}": trial + epoch / 10 + k for k in range(METRICS)}, step=epoch)
    w.set_status(rid, "completed")
    w.end_run(rid)
    return rid


def _proc(uri, exp_name, trial, ready, barrier, queue):
    try:
        if trial == 0:  # creates the schema (MLflow's migrations are not concurrent-safe) ...
            from ltsearch.tracking.writer import TrackingWriter

            TrackingWriter(uri).experiment_id(exp_name)
            ready.set()
        else:  # ... before the others connect
            ready.wait(120)
        queue.put(("ok", _write(uri, exp_name, trial, barrier)))
    except BaseException as err:  # reported to the test, not swallowed
        queue.put(("error", f"{type(err).__name__}: {err}"))


def _count(uri: str, exp_name: str) -> tuple[int, int]:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(exp_name)
    runs = client.search_runs([exp.experiment_id])
    points = sum(len(client.get_metric_history(r.info.run_id, f"m{k}")) for r in runs for k in range(METRICS))
    return len(runs), points


def test_eight_processes_one_sqlite_store_lose_nothing(tmp_path):
    # fork: the children share nothing with this process's MLflow (it never opened this store)
    ctx = mp.get_context("fork")
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401  imported once, before the fork (2 cores)

    import ltsearch.tracking.writer  # noqa: F401
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    ready, barrier, queue = ctx.Event(), ctx.Barrier(TRIALS), ctx.Queue()
    procs = [ctx.Process(target=_proc, args=(uri, "procs", i, ready, barrier, queue)) for i in range(TRIALS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [msg for kind, msg in results if kind == "error"]
    assert not errors, errors
    assert _count(uri, "procs") == (TRIALS, TRIALS * EPOCHS * METRICS)


def test_eight_threads_one_sqlite_store_lose_nothing(tmp_path):
    from ltsearch.tracking.writer import TrackingWriter

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    TrackingWriter(store).experiment_id("threads")  # the schema, once
    barrier = threading.Barrier(TRIALS)
    errors: list[str] = []

    def work(i):
        try:
            _write(store, "threads", i, barrier)
        except BaseException as err:
            errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(TRIALS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert _count(store, "threads") == (TRIALS, TRIALS * EPOCHS * METRICS)


@pytest.mark.slow  # ~25 s: the lock must outlast MLflow's own 20 s sqlite busy_timeout
def test_writer_waits_out_a_locked_store(tmp_path, monkeypatch):
    """Another process holds the sqlite file longer than MLflow's busy_timeout (20 s): the write waits,
    retries and lands once (a plain MlflowClient raises "database is locked" here)."""
    import sqlite3
    import time

    import ltsearch.tracking.writer as writer_mod

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    w = writer_mod.TrackingWriter(uri)
    rid = w.create_run(w.experiment_id("locked"), "t", {"ltsearch.kind": "trial"})
    seen: list[str] = []

    def counting(err):
        seen.append(str(err)[:80])
        return writer_mod.__dict__["_orig_is_locked"](err)

    monkeypatch.setitem(writer_mod.__dict__, "_orig_is_locked", writer_mod.is_locked_error)
    monkeypatch.setattr(writer_mod, "is_locked_error", counting)
    holder = sqlite3.connect(tmp_path / "mlflow.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(24.0, holder.execute, args=("COMMIT",))
    release.start()
    t0 = time.monotonic()
    w.log_metrics(rid, {"m": 1.0}, step=1)
    release.join()
    assert time.monotonic() - t0 >= 20
    assert any("locked" in s for s in seen), seen
    from mlflow import MlflowClient

    assert [m.value for m in MlflowClient(uri).get_metric_history(rid, "m")] == [1.0]

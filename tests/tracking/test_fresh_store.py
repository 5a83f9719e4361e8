"""Several drivers starting at the same moment on a fresh sqlite MLflow store: none crashes on
MLflow's schema migration (ltsearch creates the store under a file lock), every run is kept."""

from __future__ import annotations

import multiprocessing as mp

DRIVERS = 4


def _driver(uri: str, barrier, queue, i: int) -> None:
    try:
        from ltsearch.tracking.writer import TrackingWriter

        barrier.wait(60)  # all at once, on a store that does not exist yet
        w = TrackingWriter(uri)
        exp = w.experiment_id("digits-lt-ir10")
        rid = w.create_run(exp, f"search{i}", {"ltsearch.kind": "search", "ltsearch.search": f"search{i}"})
        w.end_run(rid)
        queue.put(("ok", rid))
    except BaseException as err:  # reported to the test
        queue.put(("error", f"{type(err).__name__}: {err}"))


def test_drivers_starting_together_on_a_fresh_store(tmp_path):
    ctx = mp.get_context("spawn")  # fresh interpreters: each imports MLflow and opens the store itself
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    barrier, queue = ctx.Barrier(DRIVERS), ctx.Queue()
    procs = [ctx.Process(target=_driver, args=(uri, barrier, queue, i)) for i in range(DRIVERS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    assert all(kind == "ok" for kind, _ in results), results
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("digits-lt-ir10")
    assert len(client.search_runs([exp.experiment_id])) == DRIVERS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlartifacts", "mlflow.db"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no lock file beside the store

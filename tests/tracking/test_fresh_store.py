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


def _store_works(uri: str, tmp_path) -> list:
    from ltsearch.tracking.writer import TrackingWriter

    w = TrackingWriter(uri)
    exp = w.experiment_id("digits-lt-ir10")
    rid = w.create_run(exp, "s", {"ltsearch.kind": "search", "ltsearch.search": "s"})
    w.log_metrics(rid, {"val/acc": 50.0}, step=1)
    w.end_run(rid)
    return w.client.search_experiments()


def test_fresh_stores_are_copies_of_one_migrated_template(tmp_path, monkeypatch):
    """MLflow's migrations run once per MLflow version (the template in $LTSEARCH_CACHE); every
    fresh store after that is a copy, holds the full schema, and gets its own Default experiment."""
    import mlflow

    from ltsearch.tracking.writer import _has_schema

    monkeypatch.setenv("LTSEARCH_CACHE", str(tmp_path / "cache"))
    template = tmp_path / "cache" / f"mlflow-{mlflow.__version__}-schema.db"
    _store_works(f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}", tmp_path)
    assert _has_schema(template)
    made = template.stat().st_mtime_ns
    for name in ("b", "c"):
        db = tmp_path / name / "mlflow.db"
        exps = _store_works(f"sqlite:///{db}", tmp_path)
        assert _has_schema(db) and db.stat().st_size > 0
        default = [e for e in exps if e.experiment_id == "0"]
        assert default and str(tmp_path / "cache") not in default[0].artifact_location
    assert template.stat().st_mtime_ns == made  # migrated once, copied since
    assert not list(tmp_path.rglob(".*.tmp"))  # no temporary copy left behind


def test_unusable_cache_falls_back_to_migrating_the_store(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("LTSEARCH_CACHE", str(blocker))  # the template cannot be written
    from ltsearch.tracking.writer import _has_schema

    _store_works(f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}", tmp_path)
    assert _has_schema(tmp_path / "a" / "mlflow.db")

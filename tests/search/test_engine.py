"""End-to-end searches on digits-lt with a real local Ray (2 CPUs), real Optuna and a
temporary sqlite MLflow store: parent / child runs, metrics, ASHA stopping, grids."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ray")

from mlflow import MlflowClient  # noqa: E402

from ltsearch.search.engine import SearchRequest, run_search  # noqa: E402
from ltsearch.tracking import (  # noqa: E402
    TAG_BEST_RUN,
    TAG_DATASET,
    TAG_KIND,
    TAG_METHOD,
    TAG_NODE,
    TAG_SEARCH,
    TAG_STATUS,
    TAG_TRIAL_ID,
    TAG_VAL_PROTOCOL,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One sqlite MLflow store (and trials folder) for the module: db creation is slow."""
    root = tmp_path_factory.mktemp("search")
    return {"root": root, "uri": f"sqlite:///{root / 'mlflow.db'}", "trials": root / "trials"}


def request(store, method, name, **kw) -> SearchRequest:
    kw.setdefault("trials", 2)
    kw.setdefault("epochs", 1)
    kw.setdefault("scheduler", "none")
    return SearchRequest(method=method, name=name, tracking_uri=store["uri"], storage_path=store["trials"],
                         display=False, **kw)


def runs_of(store, search):
    client = MlflowClient(store["uri"])
    exp = client.get_experiment_by_name("digits-lt-ir10")
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.`{TAG_SEARCH}` = '{search}'")
    parents = [r for r in runs if r.data.tags[TAG_KIND] == "search"]
    children = [r for r in runs if r.data.tags[TAG_KIND] == "trial"]
    return client, parents, children


PNGS = {"learning_curves.png", "per_class_accuracy.png", "confusion_matrix.png"}


@pytest.mark.parametrize("method, extra", [
    ("kps", {"figures": "all"}),  # every run's figures as it finishes
    ("lort", {"fixed": ["stage2_epochs=1"]}),  # auto: the 2 trials fill the 2 CPUs, so the best run's only
    ("lwr", {"params": ["lambda_schedule=quadratic,step"], "figures": "none"}),
])
def test_small_search_logs_parent_and_one_child_per_trial(ray_session, store, method, extra):
    result = run_search(request(store, method, f"e2e-{method}", **extra))
    assert len(result.trials) == 2
    assert all(t.status == "completed" for t in result.trials), [(t.status, t.failure) for t in result.trials]
    assert result.best_config is not None and result.best_config["method"]["name"] == method

    client, parents, children = runs_of(store, f"e2e-{method}")
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert parent.data.tags[TAG_METHOD] == method and parent.data.tags[TAG_DATASET] == "digits-lt-ir10"
    assert parent.data.tags[TAG_STATUS] == "completed"
    assert parent.data.params["metric"] == "val/acc" and parent.data.params["sampler"] == "optuna-tpe"
    assert parent.data.tags[TAG_BEST_RUN] in {c.info.run_id for c in children}
    assert "test/acc" in parent.data.metrics
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {"space.yaml", "best_config.yaml"}
    epochs = 2 if method == "lort" else 1
    for child in children:
        tags = child.data.tags
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags[TAG_STATUS] == "completed" and tags[TAG_METHOD] == method
        assert tags[TAG_VAL_PROTOCOL] == "test-half" and tags[TAG_NODE] and tags[TAG_TRIAL_ID]
        assert child.data.params["method.name"] == method and "optim.lr" in child.data.params
        for key in ("train/loss", "lr", "val/acc", "test/acc", "best/val/acc", "epochs_run"):
            assert key in child.data.metrics, key
        assert [m.step for m in client.get_metric_history(child.info.run_id, "val/acc")] == list(range(1, epochs + 1))
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert artifacts >= {"config.yaml", "per_class.csv", "confusion.csv"}
        figures = extra.get("figures", "auto")
        drawn = figures == "all" or (figures == "auto" and child.info.run_id == parent.data.tags[TAG_BEST_RUN])
        assert artifacts & PNGS == (PNGS if drawn else set()), (figures, child.data.tags[TAG_TRIAL_ID])
    # paper point enqueued first: one child has the paper's method params
    paper = {"kps": ("method.params.m_max", "0.5"), "lort": ("method.params.delta", "0.98"),
             "lwr": ("method.params.theta", "0.4")}[method]
    assert paper[1] in [c.data.params[paper[0]] for c in children]


@pytest.mark.parametrize("mode, cpus, concurrent, cpus_per_trial, live", [
    ("auto", 2, 2, 1, False),  # two trials fill two cores (the test's Ray, the 2-core box)
    ("auto", 2, 1, 2, False),  # one trial of two threads (bench P1)
    ("auto", 2, 1, 1, True),  # one single-thread trial leaves a core
    ("auto", 16, 4, 1, True),  # a GPU server: four trials share the GPU, twelve CPUs idle
    ("auto", 3, 2, 1.5, False),  # half a CPU is not enough
    ("all", 2, 2, 1, True),
    ("best", 16, 1, 1, False),
    ("none", 16, 1, 1, False),
])
def test_figures_are_drawn_live_only_where_a_cpu_is_free(mode, cpus, concurrent, cpus_per_trial, live):
    from ltsearch.search.recorder import live_figures

    assert live_figures(mode, cpus, concurrent, cpus_per_trial) is live


def test_figures_command_draws_what_the_search_skipped(store):
    """After the auto search above (the best run's figures only), ``ltsearch figures`` draws the other
    run's; a second call finds nothing left to draw."""
    from typer.testing import CliRunner

    from ltsearch.cli.main import app

    args = ["figures", "--name", "e2e-lort", "--storage-path", str(store["trials"]), "--tracking-uri", store["uri"]]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "drew the figures of 1 run;" in first.output
    client, _, children = runs_of(store, "e2e-lort")
    for child in children:
        assert PNGS <= {a.path for a in client.list_artifacts(child.info.run_id)}, child.data.tags[TAG_TRIAL_ID]
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and "drew the figures of 0 runs;" in again.output, again.output
    bad = CliRunner().invoke(app, args + ["--trial", "t099"])
    assert bad.exit_code == 2 and "--trial t099: search 'e2e-lort' has no such run" in bad.output, bad.output


def test_asha_stops_a_weak_trial(ray_session, store):
    # one trial at a time: a good lr first, then a learning rate that cannot keep up at epoch 1
    result = run_search(request(store, "ce", "asha", search="grid", scheduler="asha", epochs=3, grace_period=1,
                                reduction_factor=2, max_concurrent=1,
                                grid_values={"optim.lr": [1e-5, 0.1]}, grid_over=["optim.lr"]))
    statuses = {t.params["optim.lr"]: t.status for t in result.trials}
    assert "stopped" in statuses.values(), statuses
    assert "completed" in statuses.values(), statuses
    client, parents, children = runs_of(store, "asha")
    assert len(children) == 2
    tags = sorted(c.data.tags[TAG_STATUS] for c in children)
    assert tags == ["completed", "stopped"]
    stopped = [c for c in children if c.data.tags[TAG_STATUS] == "stopped"][0]
    assert stopped.data.metrics["epochs_run"] < 3 and "test/acc" not in stopped.data.metrics
    assert parents[0].data.params["sampler"] == "grid"
    assert parents[0].data.params["trials"] == "2"  # the grid's size, not --trials' default
    assert parents[0].data.metrics["trials/stopped"] == 1


@pytest.mark.slow
def test_a_local_ray_runs_trials_at_the_drivers_priority(tmp_path):
    """A Ray that ltsearch starts runs its workers at nice 0 (Ray's default, 15, lets anything else on
    the machine take a trial's cores: bench P1); a user's RAY_worker_niceness is kept. A fresh
    interpreter, as the session's Ray fixture must not be joined."""
    import os
    import subprocess
    import sys

    code = ("import os, ray\n"
            "from ltsearch.search.driver import init_ray\n"
            "from ltsearch.search.request import SearchRequest\n"
            "init_ray(SearchRequest(method='kps', num_cpus=1))\n"
            "print('nice', ray.get(ray.remote(lambda: os.getpriority(os.PRIO_PROCESS, 0)).remote()))\n"
            "ray.shutdown()\n")
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_worker_niceness")}
    env["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    for preset, expected in ((None, 0), ("7", 7)):
        if preset is not None:
            env["RAY_worker_niceness"] = preset
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
        assert f"nice {expected}" in out.stdout, out.stdout + out.stderr

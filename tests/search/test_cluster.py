"""Team scale: a real two-node Ray cluster on loopback, a real PostgreSQL server with
``mlflow server`` on top, and two ``ltsearch run`` drivers sharing one Optuna study.

The end-to-end tests are ``slow`` (minutes; ``python -m pytest -m slow tests/search/test_cluster.py``)
and skip cleanly where PostgreSQL's server binaries or a PostgreSQL driver are absent
(``.ci/services.sh`` installs them). Every process they start is stopped by a fixture
finalizer, also when a test fails. The sampler / shared-study unit tests at the top are fast
and need neither.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ltsearch.tracking import TAG_KIND, TAG_NODE, TAG_SEARCH, TAG_STATUS, TAG_USER

from ..cluster_utils import (
    MlflowServer,
    Postgres,
    RayCluster,
    postgres_available,
    psycopg2_available,
)

optuna = pytest.importorskip("optuna")


# ---- fast: the sampler and the shared study (no services) ------------------------------
def _space():
    from ltsearch.search.space import load_space

    return load_space("ce", dataset="digits-lt")


def test_drivers_with_the_same_seed_sample_different_points_from_one_study(tmp_path):
    """Two samplers (two drivers, same --seed) on one study in one storage never draw the same
    point; a one-driver study is reproducible from its seed."""
    from ltsearch.search.sampler import SpaceSampler, make_optuna_sampler

    sampler = SpaceSampler(_space())
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"

    def run(study_name, drivers, n):
        studies = [optuna.create_study(storage=storage, study_name=study_name, load_if_exists=True,
                                       direction="maximize", sampler=make_optuna_sampler(kind, 0))
                   for _ in range(drivers)]
        for i in range(n):
            study = studies[i % drivers]
            trial = study.ask()
            sampler.sample(trial)
            study.tell(trial, float(trial.params["optim.lr"]))
        return [tuple(sorted(t.params.items())) for t in studies[0].trials]

    for kind in ("tpe", "random"):
        shared = run(f"shared-{kind}", 2, 12)
        assert len(shared) == 12 and len(set(shared)) == 12, kind
        assert run(f"one-{kind}-a", 1, 6) == run(f"one-{kind}-b", 1, 6), kind


def test_second_driver_joins_the_study_and_never_re_enqueues_the_paper_point(tmp_path):
    from ltsearch.errors import LTSearchError
    from ltsearch.search.space import load_space
    from ltsearch.search.study import Study

    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    space = _space()
    point = {"optim.lr": 0.1}
    a = Study.open(url, "team", space, "alice", "tpe", 0, point, shared=True, fresh=True)
    b = Study.open(url, "team", space, "bob", "tpe", 0, point, shared=True, fresh=True)
    first, _ = a.ask()
    second, values = b.ask()
    assert (first, second) == (0, 1) and values != point  # the paper point was enqueued once, by the creator
    assert [t.state.name for t in a.study.get_trials()].count("WAITING") == 0
    other = load_space("ce", dataset="digits-lt", params=["optim.lr=0.001:0.01:log"])
    with pytest.raises(LTSearchError, match="another space"):
        Study.open(url, "team", other, "carol", "tpe", 0, point, shared=True, fresh=True)


# ---- slow: real services -----------------------------------------------------------------
services = pytest.mark.skipif(not (postgres_available() and psycopg2_available()),
                              reason="PostgreSQL server binaries or psycopg2/psycopg absent (.ci/services.sh)")
ltsearch_cli = pytest.mark.skipif(shutil.which("ltsearch") is None, reason="ltsearch not installed (pip install -e .)")


@pytest.fixture(scope="module")
def postgres():
    pg = Postgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="module")
def mlflow_server(postgres, tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    server = MlflowServer(postgres.createdb("mlflow"), root / "artifacts", root / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster():
    c = RayCluster(cpus_per_node=1)
    try:
        c.start(nodes=2)
        yield c
    finally:
        c.stop()


def ltsearch_run(cluster, cwd: Path, *args: str, user: str = "alice", wait: bool = True):
    """``ltsearch run ce`` on the cluster: digits-lt, resnet8, 1 epoch, 1 CPU per trial."""
    cmd = ["ltsearch", "run", "ce", "--epochs", "1", "--cpus-per-trial", "1", "--scheduler", "none",
           "--ray-address", cluster.address, "--storage-path", str(cwd / "trials"), "--no-live", *args]
    env = dict(cluster.env, LTSEARCH_USER=user)
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("RAY_ADDRESS", None)  # --ray-address says it
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return proc
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-4000:]
    return out


def runs_of(uri: str, search: str):
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps, filter_string=f"tags.`{TAG_SEARCH}` = '{search}'")
    parents = [r for r in runs if r.data.tags[TAG_KIND] == "search"]
    children = [r for r in runs if r.data.tags[TAG_KIND] == "trial"]
    return client, parents, children


def cluster_node_ids(cluster) -> set[str]:
    code = "import ray; ray.init(logging_level='ERROR'); print(*[n['NodeID'] for n in ray.nodes() if n['Alive']])"
    out = subprocess.run([sys.executable, "-c", code], env=cluster.env, capture_output=True, text=True,
                         timeout=120, cwd=cluster.root).stdout
    return set(out.split())


@pytest.mark.slow
@services
@ltsearch_cli
def test_search_on_two_node_cluster_logs_to_mlflow_server_on_postgres(cluster, mlflow_server, postgres, tmp_path):
    t0 = time.time()
    optuna_url = postgres.createdb("optuna_cluster")
    ltsearch_run(cluster, tmp_path, "--trials", "4", "--name", "cluster-ce", "--tracking-uri", mlflow_server.uri,
                 "--optuna-storage", optuna_url)
    client, parents, children = runs_of(mlflow_server.uri, "cluster-ce")
    assert len(parents) == 1 and len(children) == 4
    assert parents[0].data.tags[TAG_STATUS] == "completed"
    assert parents[0].data.tags[TAG_USER] == "alice"
    assert all(c.data.tags[TAG_STATUS] == "completed" for c in children)
    nodes = {c.data.tags[TAG_NODE] for c in children}
    assert len(nodes) == 2 and nodes <= cluster_node_ids(cluster), nodes  # trials ran on both nodes
    # artifacts went through the server to its --artifacts-destination
    assert {a.path for a in client.list_artifacts(children[0].info.run_id)} == {"config.yaml", "per_class.csv"}
    assert any(mlflow_server.artifacts.rglob("per_class.csv"))
    # the Optuna study is in PostgreSQL
    study = optuna.load_study(study_name="cluster-ce", storage=optuna_url)
    assert len(study.trials) == 4
    print(f"cluster search with PostgreSQL MLflow: {time.time() - t0:.0f}s")

    # the same search against the sqlite default (./mlflow.db, ./optuna.db) gives the same runs
    t0 = time.time()
    local = tmp_path / "sqlite"
    local.mkdir()
    ltsearch_run(cluster, local, "--trials", "4", "--name", "cluster-ce")
    uri = f"sqlite:///{local / 'mlflow.db'}"
    _, parents_sql, children_sql = runs_of(uri, "cluster-ce")
    assert len(parents_sql) == len(parents) and len(children_sql) == len(children)
    assert (local / "optuna.db").is_file()
    assert {c.data.tags[TAG_STATUS] for c in children_sql} == {"completed"}
    print(f"cluster search with sqlite MLflow: {time.time() - t0:.0f}s")


@pytest.mark.slow
@services
@ltsearch_cli
def test_two_drivers_share_one_study_in_postgres(cluster, mlflow_server, postgres, tmp_path):
    t0 = time.time()
    optuna_url = postgres.createdb("optuna_team")
    common = ["--trials", "3", "--study", "team-ce", "--tracking-uri", mlflow_server.uri,
              "--optuna-storage", optuna_url]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = ltsearch_run(cluster, tmp_path / "a", *common, "--name", "team-ce-alice", user="alice", wait=False)
    b = ltsearch_run(cluster, tmp_path / "b", *common, "--name", "team-ce-bob", user="bob", wait=False)
    try:
        outs = [p.communicate(timeout=900)[0] for p in (a, b)]
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
    assert a.returncode == 0, outs[0][-4000:]
    assert b.returncode == 0, outs[1][-4000:]

    study = optuna.load_study(study_name="team-ce", storage=optuna_url)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(study.trials) == 6 and len(done) == 6, [t.state for t in study.trials]
    points = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(points)) == 6, points  # no config sampled twice

    users = {}
    for search in ("team-ce-alice", "team-ce-bob"):
        _, parents, children = runs_of(mlflow_server.uri, search)
        assert len(parents) == 1 and len(children) == 3
        users[search] = {r.data.tags[TAG_USER] for r in parents + children}
    assert users == {"team-ce-alice": {"alice"}, "team-ce-bob": {"bob"}}

    # one leaderboard of the dataset merges both drivers' trials (and the earlier search's)
    from ltsearch.reports.leaderboard import build

    board = build("digits-lt", tracking_uri=mlflow_server.uri, reference=False)
    searches = [r["search"] for r in board.rows if r["kind"] != "paper"]
    assert searches.count("team-ce-alice") == 3 and searches.count("team-ce-bob") == 3
    print(f"two drivers on one study: {time.time() - t0:.0f}s")

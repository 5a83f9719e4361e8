"""Stores rejected before anything is written (``checks.py``): storage / tracking / Optuna URIs with an
unsupported scheme, stores that are not databases, read-only or full disks, servers and databases
that do not answer (each within a few seconds, the URI named)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from .harness import cfg, check_case, text

FULL_DISK = {"LTSEARCH_MIN_FREE_MB": str(10**12)}  # more than any disk has free: every disk counts as full
READ_ONLY = "/proc/sys"  # a read-only mount in every Linux container


def _truncated_db(t) -> str:
    import sqlite3

    db = t / "whole.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE x (a TEXT)")
    con.executemany("INSERT INTO x VALUES (?)", [("y" * 500,)] * 200)
    con.commit()
    con.close()
    data = db.read_bytes()
    db.unlink()
    (t / "mlflow.db").write_bytes(data[: len(data) // 2 + 100])
    return "mlflow.db"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


CASES = [
    # ---- --storage-path ---------------------------------------------------------------------------
    ("storage-s3", lambda t: ["run", "kps", "--storage-path", "s3://bucket/trials"], ["--storage-path", "s3", "not supported"]),
    ("storage-gs", lambda t: ["run", "kps", "--storage-path", "gs://bucket/trials"], ["--storage-path", "gs"]),
    ("storage-is-a-file", lambda t: ["run", "kps", "--storage-path", text(t, "afile", "x")], ["--storage-path", "a file"]),
    ("storage-read-only", lambda t: ["run", "kps", "--storage-path", f"{READ_ONLY}/trials"],
     ["--storage-path", "read-only"]),
    ("storage-full-disk", lambda t: (["run", "kps"], FULL_DISK), ["full"]),
    # ---- --tracking-uri ---------------------------------------------------------------------------
    ("tracking-ftp", lambda t: ["run", "kps", "--tracking-uri", "ftp://host/mlflow"], ["--tracking-uri", "ftp"]),
    ("tracking-directory", lambda t: ["run", "kps", "--tracking-uri", str(t)], ["--tracking-uri", "folder"]),
    ("tracking-file-store-path", lambda t: ["run", "kps", "--tracking-uri", "mlruns"], ["--tracking-uri", "mlruns"]),
    ("tracking-file-uri", lambda t: ["run", "kps", "--tracking-uri", "file:///tmp/mlruns"], ["--tracking-uri", "file"]),
    ("tracking-sqlite-two-slashes", lambda t: ["run", "kps", "--tracking-uri", "sqlite://x.db"],
     ["--tracking-uri", "three slashes"]),
    ("tracking-not-sqlite", lambda t: ["run", "kps", "--tracking-uri", text(t, "mlflow.db", "not a database\n" * 20)],
     ["mlflow.db", "not an sqlite file"]),
    ("tracking-truncated-db", lambda t: ["run", "kps", "--tracking-uri", _truncated_db(t)], ["mlflow.db", "truncated"]),
    ("tracking-default-truncated", lambda t: (_truncated_db(t) and ["run", "kps"]), ["mlflow.db", "truncated"]),
    ("tracking-read-only-folder", lambda t: ["run", "kps", "--tracking-uri", f"sqlite:///{READ_ONLY}/mlflow.db"],
     ["--tracking-uri", "read-only"]),
    ("train-full-disk", lambda t: (["train", "--config", cfg(t), "--seeds", "0", "--output", "/tmp"], FULL_DISK),
     ["full"]),
    ("tracking-env-ftp", lambda t: (["run", "kps"], {"MLFLOW_TRACKING_URI": "ftp://host/x"}),
     ["MLFLOW_TRACKING_URI", "ftp"]),
    ("tracking-server-down", lambda t: ["run", "kps", "--tracking-uri", f"http://127.0.0.1:{_closed_port()}"],
     ["--tracking-uri", "http://127.0.0.1:", "does not answer"]),
    ("tracking-bad-url", lambda t: ["run", "kps", "--tracking-uri", "http://:99999"], ["--tracking-uri"]),
    ("train-seeds-tracking-ftp", lambda t: ["train", "--config", cfg(t), "--seeds", "0,1", "--tracking-uri",
                                            "ftp://host/x"], ["--tracking-uri", "ftp"]),
    ("train-out-read-only", lambda t: ["train", "--config", cfg(t), "--output", f"{READ_ONLY}/out"], ["--output", "read-only"]),
    ("leaderboard-tracking-ftp", lambda t: ["leaderboard", "-d", "digits-lt", "--tracking-uri", "ftp://x/y"],
     ["--tracking-uri", "ftp"]),
    ("leaderboard-tracking-directory", lambda t: ["leaderboard", "-d", "digits-lt", "--tracking-uri", str(t)],
     ["--tracking-uri", "folder"]),
    ("leaderboard-server-down", lambda t: ["leaderboard", "-d", "digits-lt", "--tracking-uri",
                                           f"http://127.0.0.1:{_closed_port()}"], ["--tracking-uri", "does not answer"]),
    ("leaderboard-truncated-db", lambda t: ["leaderboard", "-d", "digits-lt", "--tracking-uri", _truncated_db(t)],
     ["mlflow.db", "truncated"]),
    ("leaderboard-missing-db", lambda t: ["leaderboard", "-d", "digits-lt", "--tracking-uri", f"{t}/typo.db"],
     ["--tracking-uri", "typo.db", "no such store"]),
    ("searches-missing-db", lambda t: ["searches", "--tracking-uri", f"sqlite:///{t}/typo.db"],
     ["--tracking-uri", "typo.db", "no such store"]),
    # ---- --optuna-storage ---------------------------------------------------------------------------
    ("optuna-redis", lambda t: ["run", "kps", "--optuna-storage", "redis://localhost:6379"], ["--optuna-storage", "redis"]),
    ("optuna-not-a-url", lambda t: ["run", "kps", "--optuna-storage", "optuna.db"], ["--optuna-storage", "optuna.db"]),
    ("optuna-bad-postgres-url", lambda t: ["run", "kps", "--optuna-storage", "postgresql://u:p@host:notaport/db"],
     ["--optuna-storage"]),
    ("optuna-sqlite-directory", lambda t: ["run", "kps", "--optuna-storage", f"sqlite:///{t}"], ["--optuna-storage", "folder"]),
    ("optuna-sqlite-not-db", lambda t: ["run", "kps", "--optuna-storage", f"sqlite:///{t / text(t, 'o.db', 'junk' * 50)}"],
     ["--optuna-storage", "not an sqlite file"]),
    ("optuna-mysql-down", lambda t: ["run", "kps", "--optuna-storage", f"mysql://u:secret@127.0.0.1:{_closed_port()}/db"],
     ["--optuna-storage"]),
    # ---- --ray-address --------------------------------------------------------------------------------
    ("ray-address-down", lambda t: ["run", "kps", "--ray-address", f"127.0.0.1:{_closed_port()}"],
     ["--ray-address", "does not answer"]),
    ("ray-env-address-down", lambda t: (["run", "kps"], {"RAY_ADDRESS": f"127.0.0.1:{_closed_port()}"}),
     ["RAY_ADDRESS", "does not answer"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_store_one_line_exit_2_writes_nothing(case, tmp_path):
    check_case(case, tmp_path)


def test_passwords_never_printed(tmp_path):
    from .harness import run_cli

    (tmp_path / "w").mkdir()
    code, out = run_cli(["run", "kps", "--tracking-uri", "postgresql://u:hunter2@127.0.0.1:1/db"], tmp_path / "w")
    assert code == 2 and "hunter2" not in out, out


@pytest.mark.slow
def test_cluster_that_cannot_place_one_trial(tmp_path):
    """A real one-node Ray cluster with 1 CPU: a search asking 2 CPUs per trial is refused at once
    (one line naming the flag and the cluster) instead of waiting forever for a node that never comes.

    The CLI runs in a fresh interpreter, not a fork of pytest: a fork of a process that has used Ray
    inherits Ray's C++ state (its cached default auth token, its gRPC threads) and then fails to
    authenticate or hangs, which no user's ``ltsearch run`` does."""
    from ..cluster_utils import RayCluster
    from ..helpers import cli_process
    from .harness import CLEAN_ENV, listing

    cluster = RayCluster(cpus_per_node=1).start(nodes=1)
    try:
        work = tmp_path / "w"
        work.mkdir()
        env = {**CLEAN_ENV, **{k: cluster.env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH",
                                                          "RAY_USAGE_STATS_ENABLED")}}
        proc = cli_process(["run", "ce", "--ray-address", cluster.address, "--cpus-per-trial", "2", "--trials", "1",
                            "--no-live"], work, env=env)
        try:
            out, _ = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("ltsearch run hung on a cluster that cannot place a trial:\n" + proc.communicate()[0][-3000:])
        lines = [ln for ln in out.strip().splitlines() if ln.strip()]
        assert proc.returncode == 2 and len(lines) == 1, out[-3000:]
        assert "--cpus-per-trial 2" in lines[0] and cluster.address in lines[0] and "1 CPUs" in lines[0], lines[0]
        assert listing(work) == set()
    finally:
        cluster.stop()

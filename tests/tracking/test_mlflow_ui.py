"""The MLflow UI, as a user sees it in a real browser (issue 14.6).

A temporary sqlite store gets one ``ltsearch train --seeds 0`` run and a tiny real search
(digits-lt, 2 trials, 1 epoch, local Ray with 2 CPUs); ``mlflow server`` serves it on a
free localhost port and headless Chromium (Debian's ``chromium``, never downloaded) renders
the pages through :func:`ltsearch.tracking.names.ui_url`: the experiment opens on its runs
table (not the GenAI overview), the search is a parent with its trials nested, run names
are short, a trial's artifacts page lists the PNG figures, the importance plot is on the
parent. Slow (two trainings, a Ray start and an MLflow server start: minutes on 2 busy
cores); the same artifacts are checked without a browser in ``tests/tracking/test_figures.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _text(html: str) -> str:
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def store(tmp_path_factory, ray_session):
    """The store: a final run (``ltsearch train --seeds 0``) and a 2-trial search."""
    from typer.testing import CliRunner

    from ltsearch.cli.main import app
    from ltsearch.search.engine import SearchRequest, run_search
    from ltsearch.yamlio import safe_dump

    from ..helpers import tiny_config

    root = tmp_path_factory.mktemp("ui")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    (root / "c.yaml").write_text(safe_dump(tiny_config("ce", epochs=1)))
    res = CliRunner().invoke(app, ["train", "--config", str(root / "c.yaml"), "--seeds", "0", "--tracking-uri", uri,
                                   "-o", str(root / "train")])
    assert res.exit_code == 0, res.output
    result = run_search(SearchRequest(method="kps", name="ui-kps", tracking_uri=uri, storage_path=root / "trials",
                                      trials=2, epochs=1, scheduler="none", display=False))
    return {"root": root, "uri": uri, "search": result}


@pytest.fixture(scope="module")
def server(store):
    """``mlflow server`` on a free port, in its own process group (killed as a group after)."""
    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no GenAI job workers
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store["uri"],
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            cwd=store["root"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=3) as r:
                    if r.read().strip() == b"OK":
                        break
            except OSError:
                pass
            assert proc.poll() is None, "mlflow server exited"
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def render(url: str, tmp: Path, tag: str) -> str:
    """The page's text after its scripts ran (Chromium's --dump-dom), with a screenshot beside it."""
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / ('ud-' + tag)}",
            "--virtual-time-budget=20000", "--window-size=1400,900"]
    subprocess.run(args + [f"--screenshot={tmp / (tag + '.png')}", url], capture_output=True, timeout=180)
    proc = subprocess.run(args + ["--dump-dom", url], capture_output=True, text=True, timeout=180)
    return _text(proc.stdout)


def test_ui_shows_runs_table_nested_trials_and_figures(store, server, tmp_path):
    from mlflow import MlflowClient

    from ltsearch.tracking.names import ui_url

    client = MlflowClient(store["uri"])
    exp = client.get_experiment_by_name("digits-lt-ir10")
    runs = client.search_runs([exp.experiment_id])
    by_name = {r.info.run_name: r for r in runs}
    assert set(by_name) == {"ce-s0", "ui-kps", "t000", "t001"}

    # the experiment opens on its runs table (not the GenAI overview); trials sit under their parent
    page = render(ui_url(server, exp.experiment_id), tmp_path, "experiment")
    assert "Runs" in page and "ui-kps" in page and "ce-s0" in page
    assert "Usage" not in page and "Detect Issues" not in page and "Tool calls" not in page
    assert "4 matching runs" in page
    assert "t000" not in page and "t001" not in page  # collapsed under the parent row
    assert "digits-lt-ir10-train" in page  # the dataset column

    # a trial's page names its parent; its artifacts page lists the figures
    trial = by_name["t000"]
    page = render(ui_url(server, exp.experiment_id, trial.info.run_id), tmp_path, "trial")
    assert "Parent run ui-kps" in page and "digits-lt-ir10-train" in page
    page = render(ui_url(server, exp.experiment_id, trial.info.run_id, "artifacts"), tmp_path, "artifacts")
    for name in ("learning_curves.png", "per_class_accuracy.png", "per_class.csv", "config.yaml"):
        assert name in page, name

    # the search's parent has the importance plot (2 trials: with its warning)
    parent = by_name["ui-kps"]
    page = render(ui_url(server, exp.experiment_id, parent.info.run_id, "artifacts"), tmp_path, "parent")
    assert "importance.png" in page and "importance.json" in page
    assert "ltsearch.importance_warning" in parent.data.tags

"""Trial and search figures (issue 14.6) on a real trained model, logged to a temporary
sqlite MLflow store and read back through MlflowClient: PNGs that decode, the training set
as a dataset input with its counts and imbalance ratio, the importance plot with its
too-few-trials warning, the short run names and the model-training experiment tag."""

from __future__ import annotations

import json
import os
import sys
import threading

import pytest
from typer.testing import CliRunner

from ltsearch.tracking import (
    TAG_KIND,
    TAG_SEARCH,
    TAG_STATUS,
    TAG_TRIAL_ID,
    figures,
    names,
    outputs,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch ResNet-8 on digits-lt (ir 10), its trial folder, and confusion.csv of its test
    predictions computed from the saved checkpoint (the call trial.finish() is to make)."""
    import torch

    from ltsearch.data import DatasetSpec, load_dataset
    from ltsearch.data.loader import make_loader
    from ltsearch.models import build_model
    from ltsearch.train import run_trial
    from ltsearch.train.checkpoint import load_checkpoint

    from ..helpers import tiny_config

    out = tmp_path_factory.mktemp("trial")
    cfg = tiny_config("ce", epochs=2)
    result = run_trial(cfg, out_dir=out)
    data = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=10))
    model = build_model("resnet8", data.num_classes)
    model.load_state_dict(load_checkpoint(out / "checkpoint.pt")["model"])
    model.eval()
    loader = make_loader(data.test, train=False, batch_size=512, device=torch.device("cpu"), seed=0,
                         mean=data.mean, std=data.std, image_size=data.image_size)
    preds, labels = [], []
    with torch.no_grad():
        for x, y in loader:
            preds.append(model(x).argmax(1))
            labels.append(y)
    path = outputs.write_confusion(out, torch.cat(labels), torch.cat(preds), data.num_classes, data.class_names)
    return {"dir": out, "data": data, "result": result, "confusion": path}


def test_confusion_csv_matches_the_predictions(trained):
    names_, matrix = outputs.read_confusion(trained["confusion"])
    data = trained["data"]
    assert names_ == list(data.class_names) and len(matrix) == data.num_classes
    assert sum(map(sum, matrix)) == len(data.test)
    # the diagonal over the row sums is the per-class test accuracy the trial reported
    per_class = {r["class"]: r["test_acc"] for r in outputs.read_per_class(trained["dir"] / "per_class.csv")}
    for i, row in enumerate(matrix):
        assert 100.0 * row[i] / sum(row) == pytest.approx(per_class[i], abs=1e-6)
    assert outputs.write_confusion(trained["dir"] / "big.csv", [0], [0], 101) is None  # > 100 classes: none


def test_trial_figures_render_readable_pngs(trained, tmp_path):
    import matplotlib.image as mpimg

    from ltsearch.tracking.artifacts import FIGURE_FILES, trial_figures

    pngs = trial_figures(trained["dir"], tmp_path)
    assert [p.name for p in pngs] == list(FIGURE_FILES)
    for p in pngs:
        img = mpimg.imread(p)
        assert img.shape[0] > 300 and img.shape[1] > 500
        assert (img[..., :3].mean(axis=-1) < 0.3).sum() > 1000  # text and lines drawn, not blank
    # a trial folder with no confusion.csv (e.g. a stopped trial) gives the figures it can
    (tmp_path / "stopped").mkdir()
    (tmp_path / "stopped" / "metrics.jsonl").write_text((trained["dir"] / "metrics.jsonl").read_text() + '{"epo')
    assert [p.name for p in trial_figures(tmp_path / "stopped", tmp_path / "out")] == ["learning_curves.png"]


def test_per_class_order_is_head_to_tail_with_groups():
    rows = [{"class": 0, "train_count": 5, "group": "few"}, {"class": 1, "train_count": 500, "group": "many"},
            {"class": 2, "train_count": 50, "group": "medium"}, {"class": 3, "train_count": 500, "group": "many"}]
    order = figures.head_to_tail(rows)
    assert [r["class"] for r in order] == [1, 3, 2, 0]
    assert figures._group_spans([r["group"] for r in order]) == [("many", 0, 1), ("medium", 2, 2), ("few", 3, 3)]


def test_run_names_are_short_and_distinct():
    ids = [f"5f3ab_{i:05d}" for i in range(12)]
    short = [names.trial_run_name(t) for t in ids]
    assert short[:2] == ["t00", "t01"] and len(set(short)) == 12 and max(map(len, short)) == 3
    assert names.trial_run_name("5f3ab_00003", "stopped", 4) == "t03 stopped@e4"
    assert names.trial_run_name("e31cbb66", index=7) == "t07" and names.trial_run_name("e31cbb66") == "t-1cbb66"
    assert names.with_status("t07 stopped@e2", "stopped", 3) == "t07 stopped@e3"
    assert names.final_run_name("kps", 1, "t03") == "kps-t03-s1" and names.final_run_name("kps", 0) == "kps-s0"
    assert names.ui_url("http://h:5000/", "7", "abc", "artifacts") == \
        "http://h:5000/#/experiments/7/runs/abc/artifacts?workflowType=machine_learning"


@pytest.fixture
def writer(tmp_path):
    from ltsearch.tracking.writer import TrackingWriter

    return TrackingWriter(f"sqlite:///{tmp_path / 'mlflow.db'}")


def test_logged_figures_and_dataset_read_back_through_mlflow(trained, writer):
    from ltsearch.tracking.artifacts import log_training_dataset, log_trial_figures
    from ltsearch.tracking.writer import EXPERIMENT_KIND_TAG

    exp_id = writer.experiment_id("digits-lt-ir10")
    assert writer.client.get_experiment(exp_id).tags[EXPERIMENT_KIND_TAG] == "custom_model_development"
    rid = writer.create_run(exp_id, "t00", {TAG_KIND: "trial"})
    logged = log_trial_figures(writer, rid, trained["dir"])
    assert logged == ["learning_curves.png", "per_class_accuracy.png", "confusion_matrix.png", "confusion.csv"]
    assert {a.path for a in writer.client.list_artifacts(rid)} >= set(logged)
    local = writer.client.download_artifacts(rid, "per_class_accuracy.png")
    with open(local, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    data = trained["data"]
    assert log_training_dataset(writer, rid, data) == "digits-lt-ir10-train"
    assert log_training_dataset(writer, rid, data) == "digits-lt-ir10-train"  # idempotent
    inputs = writer.client.get_run(rid).inputs.dataset_inputs
    assert len(inputs) == 1
    ds = inputs[0].dataset
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "train"
    profile = json.loads(ds.profile)
    assert profile["train_counts"] == list(data.train_counts) and profile["num_classes"] == 10
    assert profile["imbalance_ratio"] == pytest.approx(max(data.train_counts) / min(data.train_counts))
    assert profile["requested_imbalance_ratio"] == 10 and ds.source_type == "code"
    # a dataset config section (what the search recorder has) gives the same dataset
    rid2 = writer.create_run(exp_id, "t01", {TAG_KIND: "trial"})
    log_training_dataset(writer, rid2, {"name": "digits-lt", "imbalance_ratio": 10})
    ds2 = writer.client.get_run(rid2).inputs.dataset_inputs[0].dataset
    assert json.loads(ds2.profile)["train_counts"] == list(data.train_counts)

    from ltsearch.tracking.names import mark_stopped

    assert mark_stopped(writer, rid2, "e31cbb66", 3) == "KILLED"
    assert writer.client.get_run(rid2).info.run_name == "t01 stopped@e3"


def _search_with_trials(writer, n_completed: int, n_stopped: int = 1, budgets: list[int] | None = None):
    """A search's parent and trial runs: value 50 + 200 lr + 2 m_max (+ 5 a budget epoch); ``budgets``
    gives each run's budget (sh rungs: tag and scaled ``epochs``), else all at 8 epochs."""
    import random

    exp_id = writer.experiment_id("digits-lt-ir10")
    parent = writer.create_run(exp_id, "kps-s", {TAG_KIND: "search", TAG_SEARCH: "kps-s"})
    rnd = random.Random(0)
    for i in range(n_completed + n_stopped):
        status = "completed" if i < n_completed else "stopped"
        budget = budgets[i] if budgets else 8
        rid = writer.create_run(exp_id, f"t{i:02d}", {TAG_KIND: "trial", TAG_SEARCH: "kps-s", TAG_STATUS: status,
                                                      TAG_TRIAL_ID: f"x_{i:05d}", "ltsearch.budget": budget},
                                parent=parent)
        lr, m = 10 ** rnd.uniform(-3, -1), rnd.uniform(0.1, 0.9)
        writer.log_params(rid, {"optim.lr": lr, "method.params.m_max": m, "seed": 0, "epochs": budget})
        writer.log_metrics(rid, {"val/acc": 50 + 200 * lr + 2 * m + 5 * budget}, step=1)
        writer.end_run(rid)
    return exp_id, parent


@pytest.mark.parametrize("completed, warned", [(3, True), (6, False)])
def test_search_importance_plot_warns_below_five_configs(writer, completed, warned):
    from ltsearch.tracking.artifacts import (
        TAG_IMPORTANCE_WARNING,
        log_search_importance,
    )

    _, parent = _search_with_trials(writer, completed)
    doc = log_search_importance(writer, parent, "digits-lt-ir10", "kps-s")
    assert doc["configs"] == completed + 1  # the ASHA-stopped trial counts with its best epoch so far
    assert set(doc["importances"]) == {"optim.lr", "m_max"} and doc["importances"]["optim.lr"] > 0.5
    tags = writer.client.get_run(parent).data.tags
    assert (TAG_IMPORTANCE_WARNING in tags) == warned and bool(doc["warning"]) == warned
    assert {a.path for a in writer.client.list_artifacts(parent)} >= {"importance.png", "importance.json"}


def test_search_importance_rests_on_one_budget(writer):
    """An sh search: 8 configs at its 2-epoch rung, 3 at 3 epochs, 1 at the full 8. The importance rests
    on the largest budget with at least 5 configs (the first rung), so the rungs' scaled epochs (worth
    5 pt an epoch here) never pass for a knob and each config counts once."""
    from ltsearch.tracking.artifacts import log_search_importance

    _, parent = _search_with_trials(writer, 12, n_stopped=0, budgets=[2] * 8 + [3] * 3 + [8])
    doc = log_search_importance(writer, parent, "digits-lt-ir10", "kps-s")
    assert set(doc["importances"]) == {"optim.lr", "m_max"} and doc["importances"]["optim.lr"] > 0.5
    assert doc["configs"] == 8 and doc["runs"] == "8 configs at 2 epochs of 8 (too few reached more)"
    assert doc["warning"] is None


def test_search_importance_with_one_trial_draws_only_the_warning(writer):
    from ltsearch.tracking.artifacts import log_search_importance

    _, parent = _search_with_trials(writer, 1, n_stopped=0)
    doc = log_search_importance(writer, parent, "digits-lt-ir10", "kps-s")
    assert doc["importances"] == {} and "at least 2" in doc["warning"]
    assert "importance.png" in {a.path for a in writer.client.list_artifacts(parent)}


def test_train_seeds_logs_figures_and_dataset(tmp_path, monkeypatch):
    """``ltsearch train --seeds 0``: the final run is named ce-s0 and has its PNGs and dataset."""
    from ltsearch.cli.main import app
    from ltsearch.yamlio import safe_dump

    from ..helpers import tiny_config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(safe_dump(tiny_config("ce", epochs=1)))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    res = CliRunner().invoke(app, ["train", "--config", "c.yaml", "--seeds", "0", "--tracking-uri", uri,
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("digits-lt-ir10")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.run_name == "ce-s0" and run.data.tags[TAG_KIND] == "final"
    arts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert arts >= {"config.yaml", "per_class.csv", "learning_curves.png", "per_class_accuracy.png"}
    assert run.inputs.dataset_inputs[0].dataset.name == "digits-lt-ir10-train"


@pytest.mark.skipif(not hasattr(os, "setpriority") or sys.platform != "linux", reason="per-thread nice is Linux's")
def test_figures_thread_runs_at_the_lowest_priority():
    """Trial figures are drawn on a thread at nice 19: a trial on the same cores keeps its CPU (bench P1)."""
    from concurrent.futures import ThreadPoolExecutor

    from ltsearch.search.recorder import lowest_priority

    def nice_of_this_thread():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, 0)
    with ThreadPoolExecutor(max_workers=1, initializer=lowest_priority) as pool:
        assert pool.submit(nice_of_this_thread).result() == 19
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the driver's own thread keeps its priority

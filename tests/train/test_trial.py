"""The trial pipeline on the embedded digits-lt data: reports, outputs, resume, NaN, every method."""

from __future__ import annotations

import json

import pytest
import torch

from ltsearch.errors import LTSearchError, TrialDivergedError
from ltsearch.methods import METHODS
from ltsearch.train import planned_epochs, run_trial

from ..helpers import tiny_config


def test_ce_trial_reports_every_epoch_and_writes_outputs(tmp_path, digits):
    seen = []
    result = run_trial(tiny_config("ce", epochs=6), report=lambda e, m: seen.append((e, m)), out_dir=tmp_path,
                       data=digits)
    assert [e for e, _ in seen] == [1, 2, 3, 4, 5, 6]
    for _, m in seen:
        assert {"train/loss", "lr", "val/acc"} <= set(m)
    assert result["epochs_run"] == 6
    assert result["test/acc"] > 30.0  # 10 classes: chance is 10 %
    for name in ("config.yaml", "checkpoint.pt", "per_class.csv", "result.json", "metrics.jsonl"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "result.json").read_text())["val_protocol"] == "test-half"
    assert len((tmp_path / "per_class.csv").read_text().strip().splitlines()) == 11


class Interrupt(Exception):
    pass


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path, digits):
    cfg = tiny_config("kps", epochs=4, ga_start=0.5)
    full = run_trial(cfg, out_dir=tmp_path / "full", data=digits)

    def stop_after_two(epoch, metrics):
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_trial(cfg, report=stop_after_two, out_dir=tmp_path / "cut", data=digits)
    resumed_epochs = []
    resumed = run_trial(cfg, report=lambda e, m: resumed_epochs.append(e), out_dir=tmp_path / "cut", data=digits)
    assert resumed_epochs == [3, 4]
    assert resumed["test/acc"] == full["test/acc"]
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_raises_a_clear_error(digits):
    cfg = tiny_config("ce", epochs=2)
    cfg["optim"]["lr"] = 1e12
    with pytest.raises(TrialDivergedError, match="lower the learning rate"):
        run_trial(cfg, data=digits)


# the one-stage baselines share CE's path (their losses are tested against formulas in tests/losses):
# in the slow set, which keeps the CI suite under 10 minutes
SLOW_BASELINES = [pytest.param(m, marks=pytest.mark.slow) for m in ("focal", "ldam-drw", "bs", "la", "cb")]


@pytest.mark.parametrize("method", ["ce", "kps", "lwr", "lort", *SLOW_BASELINES])
def test_every_method_trains_end_to_end_through_ltsearch_train_and_beats_chance(method, tmp_path, monkeypatch):
    import yaml
    from typer.testing import CliRunner

    from ltsearch.cli.main import app

    cfg = tiny_config(method, epochs=8)
    if method == "lort":
        cfg["method"]["params"] = {"stage2_epochs": 2, "stage2_lr": 0.01}
    monkeypatch.chdir(tmp_path)  # the default stage-1 cache is ./trials/cache
    path = tmp_path / f"{method}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(app, ["train", "--config", str(path), "--output", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["test/acc"] > 20.0, result  # chance: 10 %


def test_kps_ga_switches_on_at_ga_start(digits):
    states = []
    run_trial(tiny_config("kps", epochs=4, ga_start=0.5), report=lambda e, m: states.append(m["ga_active"]),
              data=digits)
    assert states == [0.0, 0.0, 1.0, 1.0]


def test_lwr_lambda_follows_the_quadratic_schedule(digits):
    lams = []
    run_trial(tiny_config("lwr", epochs=4, lambda_0=2.0), report=lambda e, m: lams.append(m["lambda"]), data=digits)
    assert lams == pytest.approx([2.0 * (1 - t / 4) ** 2 for t in range(4)])


def test_lort_two_stages_from_one_config_and_from_a_stage1_checkpoint(tmp_path, digits):
    cfg = tiny_config("lort", epochs=5, stage2_epochs=2, stage2_lr=0.01, stage2_batch_size=64)
    assert planned_epochs(cfg) == 7
    epochs = []
    both = run_trial(cfg, report=lambda e, m: epochs.append(e), out_dir=tmp_path / "both", data=digits)
    assert epochs == [1, 2, 3, 4, 5, 6, 7] and both["epochs_run"] == 7
    assert both["test/acc"] > 25.0
    stage1 = tmp_path / "both" / "stage1.pt"
    assert stage1.is_file()

    cfg2 = tiny_config("lort", epochs=5, stage2_epochs=2, stage2_lr=0.01, backbone=str(stage1))
    assert planned_epochs(cfg2) == 2
    only2 = run_trial(cfg2, data=digits)
    assert only2["epochs_run"] == 2
    assert only2["test/acc"] == pytest.approx(both["test/acc"])  # same backbone, same stage-2 stream


def test_lort_frozen_bn_keeps_backbone_unchanged(tmp_path, digits):
    cfg = tiny_config("lort", epochs=1, stage2_epochs=1, bn="frozen")
    run_trial(cfg, out_dir=tmp_path, data=digits)
    s1 = torch.load(tmp_path / "stage1.pt", weights_only=True)["model"]
    final = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["model"]
    for k in s1:
        if not k.startswith("head."):
            assert torch.equal(s1[k], final[k]), k


def test_unreadable_backbone_checkpoint(tmp_path, digits):
    bad = tmp_path / "stage1.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(LTSearchError, match="stage1.pt: unreadable checkpoint"):
        run_trial(tiny_config("lort", epochs=1, stage2_epochs=1, backbone=str(bad)), data=digits)


def test_every_registered_method_is_tested():
    assert set(METHODS.names()) == {"ce", "focal", "ldam-drw", "bs", "la", "cb", "kps", "lort", "lwr"}


def _cut_at(cfg, out, epoch, digits):
    def stop(e, m):
        if e == epoch:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_trial(cfg, report=stop, out_dir=out, data=digits)


def test_a_kill_between_the_checkpoint_and_best_pt_keeps_the_best_weights(tmp_path, digits):
    """The checkpoint of an improving epoch is written before its best.pt: a kill in between leaves best.pt
    one improvement behind, and the resume takes the best weights from the checkpoint itself."""
    cfg = tiny_config("ce", epochs=2)
    full = run_trial(cfg, out_dir=tmp_path / "full", data=digits)
    history = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert history[1]["val/acc"] > history[0]["val/acc"]  # epoch 2 is the best: best.pt was rewritten there
    _cut_at(cfg, tmp_path / "older", 1, digits)  # best.pt of epoch 1
    _cut_at(cfg, tmp_path / "cut", 2, digits)
    assert torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)["best_epoch"] == 2
    (tmp_path / "cut" / "best.pt").write_bytes((tmp_path / "older" / "best.pt").read_bytes())  # the kill

    resumed = run_trial(cfg, out_dir=tmp_path / "cut", data=digits)
    assert resumed["test/acc"] == full["test/acc"]
    assert resumed["best/val/acc"] == full["best/val/acc"] == history[1]["val/acc"]
    assert torch.load(tmp_path / "cut" / "best.pt", weights_only=True)["epoch"] == 2  # mended on disk


def test_a_lost_best_pt_chooses_the_best_epoch_again_and_says_so(tmp_path, digits, caplog):
    cfg = tiny_config("ce", epochs=3)
    _cut_at(cfg, tmp_path, 2, digits)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    saved["best_epoch"] = 1  # its best.pt is gone: the weights of epoch 1 are nowhere
    torch.save(saved, tmp_path / "checkpoint.pt")
    (tmp_path / "best.pt").unlink()

    result = run_trial(cfg, out_dir=tmp_path, data=digits)
    assert "does not hold the best epoch (1)" in caplog.text
    last = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert result["best/val/acc"] == last["val/acc"] == result["val/acc"]  # the one resumed epoch, evaluated

"""Stage-1 reuse and the stage-2 feature cache of decoupled methods (LORT)."""

from __future__ import annotations

import json

import pytest
import torch

from ltsearch.config import config_from_dict
from ltsearch.train import run_trial
from ltsearch.train.stage_cache import stage1_key

from ..helpers import tiny_config


def lort(**params):
    return tiny_config("lort", epochs=3, **{"stage2_epochs": 2, "stage2_lr": 0.01, **params})


def key(cfg: dict) -> str:
    return stage1_key(config_from_dict(cfg))


def test_stage1_key_changes_with_stage1_knobs_only():
    base = lort()
    assert key(base) == key(lort(delta=0.9, stage2_lr=0.1, stage2_wd=1e-3, stage2_epochs=5, bn="frozen"))
    changed_lr = lort()
    changed_lr["optim"]["lr"] = 0.2
    changed_model = lort()
    changed_model["model"]["name"] = "resnet20"
    changed_seed = lort()
    changed_seed["seed"] = 1
    changed_ir = lort()
    changed_ir["dataset"]["imbalance_ratio"] = 20
    changed_amp = lort()
    changed_amp["amp"] = False  # bf16 autocast trains another backbone than fp32
    keys = {key(c) for c in (base, changed_lr, changed_model, changed_seed, changed_ir, changed_amp)}
    assert len(keys) == 6


def test_features_of_a_backbone_file_are_keyed_by_its_data_too():
    """A user-given backbone's stage-2 features are cached under the file's hash and the data's: another
    val split or imbalance ratio never reads the first run's features (and labels)."""
    from ltsearch.train.stage_cache import data_key

    base = lort()
    other_val, other_ir = lort(), lort()
    other_val["dataset"]["val"] = "test"
    other_ir["dataset"]["imbalance_ratio"] = 20
    assert len({data_key(config_from_dict(c)) for c in (base, other_val, other_ir)}) == 3
    assert data_key(config_from_dict(base)) == data_key(config_from_dict(lort(delta=0.9, stage2_lr=0.1)))


def test_second_trial_reuses_the_stage1_backbone(tmp_path, digits):
    cache = tmp_path / "cache"
    first, second = [], []
    a = lort(delta=0.98)
    a["cache_dir"] = str(cache)
    b = lort(delta=0.9)
    b["cache_dir"] = str(cache)
    run_trial(a, report=lambda e, m: first.append(e), out_dir=tmp_path / "a", data=digits)
    run_trial(b, report=lambda e, m: second.append(e), out_dir=tmp_path / "b", data=digits)
    assert first == [1, 2, 3, 4, 5]
    assert second == [4, 5]  # stage 1 came from the cache; the time axis stays the same
    assert len(list((cache / "stage1").glob("*.pt"))) == 1
    # the reusing trial's folder is the one training stage 1 there would leave: every epoch, stage1.pt
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(p.name for p in (tmp_path / "a").iterdir())
    epochs = [[json.loads(line)["epoch"] for line in (tmp_path / d / "metrics.jsonl").open()]
              for d in ("a", "b")]
    assert epochs[0] == epochs[1] == [1, 2, 3, 4, 5]
    # the reused backbone is bit-identical to training stage 1 again
    fresh = lort(delta=0.9)
    r_cached = run_trial(b, data=digits)
    r_fresh = run_trial(fresh, data=digits)
    assert r_cached["test/acc"] == r_fresh["test/acc"]


@pytest.mark.parametrize("tta", [True, False])
def test_feature_cache_is_exact(tmp_path, digits, tta):
    cfg = lort(bn="frozen", tta_flip=tta)
    uncached = run_trial(cfg, out_dir=tmp_path / "plain", data=digits)
    cached_cfg = {**cfg, "cache_dir": str(tmp_path / "cache")}
    run_trial(cached_cfg, data=digits)  # fills the caches
    hist = []
    cached = run_trial(cached_cfg, out_dir=tmp_path / "cached", report=lambda e, m: hist.append(m), data=digits)
    assert len(list((tmp_path / "cache" / "features").rglob("train-e*.pt"))) == 2  # one per stage-2 epoch
    for k in ("val/acc", "test/acc", "test/many", "test/medium"):
        assert cached.get(k) == uncached.get(k), k
    a = torch.load(tmp_path / "plain" / "checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "cached" / "checkpoint.pt", weights_only=True)["model"]
    assert torch.allclose(a["head.weight"], b["head.weight"], atol=1e-6)
    assert torch.allclose(a["head.bias"], b["head.bias"], atol=1e-6)


def test_a_cached_stage1_reports_its_val_metrics_only_to_runs_that_evaluate_the_same_way(tmp_path, digits):
    """The backbone is shared whatever the evaluation (tta_flip, eval_every are not in the stage-1 key),
    but a run evaluating another way gets the stage-1 epochs without the val metrics it did not measure."""
    cache = str(tmp_path / "cache")
    first = {**lort(delta=0.98), "cache_dir": cache}
    run_trial(first, out_dir=tmp_path / "a", data=digits)
    same = {**lort(delta=0.9), "cache_dir": cache}
    flipped = {**lort(delta=0.9), "cache_dir": cache, "tta_flip": True}
    run_trial(same, out_dir=tmp_path / "same", data=digits)
    run_trial(flipped, out_dir=tmp_path / "flipped", data=digits)
    assert len(list((tmp_path / "cache" / "stage1").glob("*.pt"))) == 1

    def stage1(folder):
        return [json.loads(line) for line in (tmp_path / folder / "metrics.jsonl").open()][:3]

    assert stage1("same") == stage1("a")
    assert all("val/acc" in h for h in stage1("a"))
    assert [h["epoch"] for h in stage1("flipped")] == [1, 2, 3]
    assert not any(k.startswith(("val/", "best/")) for h in stage1("flipped") for k in h)
    assert [h["train/loss"] for h in stage1("flipped")] == [h["train/loss"] for h in stage1("a")]

"""Long-tail counts, shot groups, the balanced val split and describe_dataset (METHODS §5)."""

from __future__ import annotations

import json

import pytest

from ltsearch.config import DatasetConfig
from ltsearch.data import (
    DATASETS,
    DatasetSpec,
    describe_dataset,
    load_dataset,
    shot_groups,
)
from ltsearch.data.profiles import balanced_half, exp_counts, step_counts
from ltsearch.errors import LTSearchError

CIFAR10_IR100 = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]


def test_cifar10_lt_counts_match_literature():
    assert exp_counts(5000, 10, 100) == CIFAR10_IR100
    assert sum(exp_counts(5000, 10, 100)) == 12406
    assert sum(exp_counts(5000, 10, 50)) == 13996
    assert sum(exp_counts(5000, 10, 10)) == 20431


def test_cifar100_lt_counts_and_groups():
    counts = exp_counts(500, 100, 100)
    assert counts[0] == 500 and counts[-1] == 5 and sum(counts) == 10847
    assert {k: len(v) for k, v in shot_groups(counts).items()} == {"many": 35, "medium": 35, "few": 30}
    assert sum(exp_counts(500, 100, 50)) == 12608
    assert sum(exp_counts(500, 100, 10)) == 19573


def test_step_profile_and_minimum_one():
    assert step_counts(5000, 10, 100) == [5000] * 5 + [50] * 5
    assert min(exp_counts(120, 10, 10_000)) == 1


def test_shot_group_boundaries():
    groups = shot_groups([101, 100, 20, 19, 0])
    assert groups == {"many": [0], "medium": [1, 2], "few": [3, 4]}


def test_balanced_half_is_balanced_disjoint_and_seeded():
    labels = [c for c in range(5) for _ in range(10)] + [5] * 3
    val, test = balanced_half(labels, seed=0)
    assert not set(val) & set(test) and sorted(val + test) == list(range(len(labels)))
    per_class = [sum(1 for i in val if labels[i] == c) for c in range(6)]
    assert per_class == [5, 5, 5, 5, 5, 1]
    assert balanced_half(labels, seed=0) == (val, test)
    assert balanced_half(labels, seed=1) != (val, test)


def test_describe_cifar_without_images(tmp_path):
    info = describe_dataset(DatasetSpec("cifar10-lt", root=str(tmp_path / "nothing"), imbalance_ratio=100))
    json.dumps(info)
    assert info["train_counts"] == CIFAR10_IR100 and info["num_train"] == 12406
    assert info["num_val"] == 5000 and info["num_test"] == 5000 and info["val_protocol"] == "test-half"
    info = describe_dataset(DatasetSpec("cifar100-lt", imbalance_ratio=50, val="test"))
    assert info["num_train"] == 12608 and info["num_test"] == 10000 and info["val_protocol"] == "test"
    info = describe_dataset(DatasetSpec("cifar100-lt", imbalance_ratio=100))
    assert {k: v["size"] for k, v in info["groups"].items()} == {"many": 35, "medium": 35, "few": 30}
    step = describe_dataset(DatasetSpec("cifar10-lt", imbalance_ratio=10, profile="step"))
    assert step["train_counts"] == [5000] * 5 + [500] * 5


def test_spec_from_config():
    spec = DatasetSpec.from_config(DatasetConfig(name="cifar100-lt", imbalance_ratio=50.0, val="test"))
    assert (spec.name, spec.imbalance_ratio, spec.val, spec.profile) == ("cifar100-lt", 50.0, "test", "exp")


@pytest.mark.parametrize("ratio", [1.0, 0.5, -3])
def test_imbalance_ratio_must_exceed_one(ratio):
    with pytest.raises(LTSearchError, match="imbalance_ratio"):
        describe_dataset(DatasetSpec("cifar10-lt", imbalance_ratio=ratio))
    with pytest.raises(LTSearchError, match="imbalance_ratio"):
        load_dataset(DatasetSpec("digits-lt", imbalance_ratio=ratio))


def test_unknown_dataset_lists_names():
    with pytest.raises(LTSearchError, match="cifar10-lt") as err:
        load_dataset(DatasetSpec("mnist-lt"))
    assert "\n" not in str(err.value)
    assert {"digits-lt", "cifar10-lt", "cifar100-lt", "imagenet-lt", "places-lt", "inat2018",
            "imagefolder-lt"} <= set(DATASETS.names())

"""CIFAR-LT loading from tiny generated sources: an image-folder tree and torchvision pickles."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ltsearch.data import DatasetSpec, TensorSplit, load_dataset
from ltsearch.data.cifar import CIFAR10_CLASSES, Cifar10LT
from ltsearch.data.profiles import exp_counts
from ltsearch.errors import LTSearchError

N_TRAIN, N_TEST = 8, 4


@pytest.fixture(autouse=True)
def small_cifar(monkeypatch, tmp_path):
    """n_max 8 so a tiny tree exercises the profile; decoded tensors cached under tmp_path."""
    monkeypatch.setattr(Cifar10LT, "n_max", N_TRAIN)
    monkeypatch.setenv("LTSEARCH_CACHE", str(tmp_path / "cache"))


def pixel(c: int, j: int, test: bool) -> int:
    """Every image is one flat colour that encodes (class, index, split)."""
    return 20 * c + 2 * j + (1 if test else 0)


def make_tree(root: Path, ext: str = ".png") -> Path:
    for part, n in (("train", N_TRAIN), ("test", N_TEST)):
        for c, name in enumerate(CIFAR10_CLASSES):
            folder = root / part / name
            folder.mkdir(parents=True)
            for j in range(n):
                arr = np.full((32, 32, 3), pixel(c, j, part == "test"), dtype=np.uint8)
                Image.fromarray(arr).save(folder / f"{j:04d}{ext}")
    return root


def make_pickles(root: Path) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rows = [(c, j) for j in range(N_TRAIN) for c in range(10)]  # interleaved classes, like the release
    chunks = np.array_split(np.arange(len(rows)), 5)
    for b, chunk in enumerate(chunks, 1):
        data = np.stack([np.full(3072, pixel(*rows[i], False), dtype=np.uint8) for i in chunk])
        with open(folder / f"data_batch_{b}", "wb") as f:
            pickle.dump({"data": data, "labels": [rows[i][0] for i in chunk]}, f)
    test = [(c, j) for c in range(10) for j in range(N_TEST)]
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": np.stack([np.full(3072, pixel(c, j, True), np.uint8) for c, j in test]),
                     "labels": [c for c, _ in test]}, f)
    return root


def check_first_per_class(data, ratio):
    counts = exp_counts(N_TRAIN, 10, ratio)
    assert data.train_counts == counts and isinstance(data.train, TensorSplit)
    assert data.train.images.dtype == torch.uint8 and data.train.images.shape[1:] == (3, 32, 32)
    for c in range(10):
        values = sorted(int(x[0, 0, 0]) for x in data.train.images[data.train.labels == c])
        assert values == [pixel(c, j, False) for j in range(counts[c])]  # the FIRST n_c images
    assert data.class_names == CIFAR10_CLASSES
    assert torch.bincount(data.val.labels).tolist() == [N_TEST // 2] * 10
    assert torch.bincount(data.test.labels).tolist() == [N_TEST // 2] * 10
    val = {int(x[0, 0, 0]) for x in data.val.images}
    test = {int(x[0, 0, 0]) for x in data.test.images}
    assert not val & test and len(val | test) == 10 * N_TEST
    assert data.val_protocol == "test-half" and data.mean[0] == pytest.approx(0.4914)


def test_image_folder_tree_first_n_and_cache(tmp_path):
    root = make_tree(tmp_path / "tree")
    data = load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=8))
    check_first_per_class(data, 8)
    cached = list((tmp_path / "cache" / "tensors").glob("cifar10-lt-*.pt"))
    assert len(cached) == 1
    again = load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=8))
    assert torch.equal(again.train.images, data.train.images)
    assert len(list((tmp_path / "cache" / "tensors").glob("*.pt"))) == 1
    load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=4))  # new key
    assert len(list((tmp_path / "cache" / "tensors").glob("*.pt"))) == 2


def test_jpeg_tree_and_val_test_protocol(tmp_path):
    root = make_tree(tmp_path / "tree", ext=".jpg")
    data = load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=4, val="test"))
    assert data.train_counts == exp_counts(N_TRAIN, 10, 4)
    assert data.val_protocol == "test" and len(data.val) == len(data.test) == 10 * N_TEST
    assert torch.equal(data.val.labels, data.test.labels)


def test_step_profile(tmp_path):
    root = make_tree(tmp_path / "tree")
    data = load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=4, profile="step"))
    assert data.train_counts == [8] * 5 + [2] * 5


def test_torchvision_pickles(tmp_path):
    root = make_pickles(tmp_path / "tv")
    data = load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=8))
    check_first_per_class(data, 8)


def test_truncated_pickle_names_file(tmp_path):
    root = make_pickles(tmp_path / "tv")
    batch = root / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(LTSearchError, match="data_batch_3"):
        load_dataset(DatasetSpec("cifar10-lt", root=str(root)))


def test_corrupt_image_names_file(tmp_path):
    root = make_tree(tmp_path / "tree", ext=".jpg")
    bad = root / "train" / "cat" / "0001.jpg"
    bad.write_bytes(b"not a jpeg at all")
    with pytest.raises(LTSearchError, match="0001.jpg") as err:
        load_dataset(DatasetSpec("cifar10-lt", root=str(root), imbalance_ratio=8))
    assert "\n" not in str(err.value)


def test_missing_root_and_empty_root(tmp_path):
    with pytest.raises(LTSearchError, match="does not exist"):
        load_dataset(DatasetSpec("cifar10-lt", root=str(tmp_path / "missing")))
    with pytest.raises(LTSearchError, match="cifar-10-batches-py"):
        load_dataset(DatasetSpec("cifar10-lt", root=str(tmp_path)))


def test_default_root_from_env(tmp_path, monkeypatch):
    make_tree(tmp_path / "data" / "cifar10-lt")
    monkeypatch.setenv("LTSEARCH_DATA", str(tmp_path / "data"))
    assert load_dataset(DatasetSpec("cifar10-lt", imbalance_ratio=8)).train_counts == exp_counts(8, 10, 8)


@pytest.mark.cifar
def test_real_cifar10_lt_ir100(cifar10_root, monkeypatch):
    monkeypatch.setattr(Cifar10LT, "n_max", 5000)
    monkeypatch.delenv("LTSEARCH_CACHE")
    data = load_dataset(DatasetSpec("cifar10-lt", root=str(cifar10_root), imbalance_ratio=100))
    assert len(data.train) == 12406
    assert data.train_counts == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert len(data.val) == len(data.test) == 5000
    assert data.train.images.shape == (12406, 3, 32, 32)

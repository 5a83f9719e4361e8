"""digits-lt: the embedded offline default (METHODS §5 exp profile on sklearn's digits)."""

from __future__ import annotations

import torch

from ltsearch.data import (
    DatasetSpec,
    LTData,
    TensorSplit,
    describe_dataset,
    load_dataset,
)


def test_digits_shapes_balanced_test_and_long_tail():
    data = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=100))
    assert isinstance(data, LTData) and isinstance(data.train, TensorSplit)
    assert data.num_classes == 10 and data.image_size == 32 and len(data.class_names) == 10
    for split in (data.train, data.val, data.test):
        assert split.images.dtype == torch.uint8 and split.images.shape[1:] == (3, 32, 32)
        assert split.labels.dtype == torch.int64 and len(split.labels) == len(split.images)
    assert data.train_counts == torch.bincount(data.train.labels, minlength=10).tolist()
    assert data.train_counts[0] == 120 and min(data.train_counts) >= 1
    assert data.train_counts == sorted(data.train_counts, reverse=True)
    assert torch.bincount(data.test.labels).tolist() == [25] * 10
    assert torch.bincount(data.val.labels).tolist() == [25] * 10
    assert data.val_protocol == "test-half"
    assert int(data.train.images.max()) > 200 and int(data.train.images.min()) == 0
    assert set(data.groups) == {"many", "medium", "few"}


def test_digits_splits_disjoint_and_seeded():
    a = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=10, seed=0))
    b = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=10, seed=0))
    c = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=10, seed=1))
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.val.labels, b.val.labels)
    assert not torch.equal(a.test.images, c.test.images)
    assert len(a.val) + len(a.test) == 500


def test_digits_val_test_protocol_and_describe():
    data = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=10, val="test"))
    assert data.val_protocol == "test" and len(data.val) == len(data.test) == 500
    info = describe_dataset(DatasetSpec("digits-lt", imbalance_ratio=10))
    assert info["num_train"] == sum(info["train_counts"]) and info["num_val"] == 250


def test_digits_read_without_sklearn_equal_load_digits(monkeypatch):
    """The CSV reader returns exactly scikit-learn's ``load_digits`` and imports no scikit-learn;
    without the shipped file it falls back to ``load_digits``."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np
    from sklearn.datasets import load_digits

    from ltsearch.data import digits

    ref = load_digits()
    images, target = digits.digits_arrays()
    assert np.array_equal(images, ref.images) and np.array_equal(target, ref.target)
    assert images.shape == (1797, 8, 8) and images.max() == 16

    code = ("import sys; from ltsearch.data.digits import digits_images; x, y = digits_images(); "
            "assert x.shape == (1797, 3, 32, 32) and int(y.max()) == 9; "
            "print(any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"

    monkeypatch.setattr(digits, "shipped_csv", lambda: None)
    images2, target2 = digits.digits_arrays()
    assert np.array_equal(images2, ref.images) and np.array_equal(target2, ref.target)

"""digits-lt: scikit-learn's 1797 8x8 digits as a tiny offline long-tailed set (METHODS §5 profiles).

Images are scaled 0..16 -> 0..255, resized bilinearly to 32x32 and repeated over 3 channels.
A seeded, balanced 50-per-class test set is held out; class ``i`` of the training split keeps
``n_i = int(120 * (1/IR) ** (i / 9))`` (at least 1) of its remaining images, chosen by a seeded shuffle.
"""

from __future__ import annotations

import random
from pathlib import Path

from .base import DATASETS, DatasetBuilder, DatasetSpec, LTData, TensorSplit, split_val
from .profiles import profile_counts

N_MAX = 120
TEST_PER_CLASS = 50


def shipped_csv() -> Path | None:
    """scikit-learn's ``datasets/data/digits.csv.gz`` (found without importing scikit-learn)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    return None


def digits_arrays():
    """scikit-learn's digits as ``(images [1797, 8, 8] float 0..16, labels [1797] int)``.

    Read from the :func:`shipped_csv` that ``load_digits`` reads, without importing scikit-learn:
    its import (scipy and all) takes seconds, which every search on digits-lt and every test paid
    on the driver's critical path (bench P1). Falls back to ``load_digits`` without the file."""
    import gzip

    import numpy as np

    csv = shipped_csv()
    if csv is None:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.images, bunch.target
    with gzip.open(csv, "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


def digits_images():
    """All 1797 digits as uint8 [N, 3, 32, 32] and int64 labels [N]."""
    import torch
    import torch.nn.functional as F

    images, target = digits_arrays()
    x = torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) * (255.0 / 16.0)
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.round().clamp_(0, 255).to(torch.uint8).repeat(1, 3, 1, 1)
    return x.contiguous(), torch.as_tensor(target, dtype=torch.int64)


@DATASETS.register("digits-lt")
class DigitsLT(DatasetBuilder):
    """digits-lt: scikit-learn's 8x8 digits at 32x32, the embedded offline default (tiny)."""

    name = "digits-lt"
    default_imbalance_ratio = 10.0  # what its search spaces search (search_spaces/*.yaml, digits-lt base)

    def load(self, spec: DatasetSpec) -> LTData:
        spec.check()
        counts = profile_counts(spec.profile, N_MAX, 10, spec.imbalance_ratio, spec.name)
        images, labels = digits_images()
        rng = random.Random(spec.seed)
        train_idx, test_idx = [], []
        for c in range(10):
            idx = (labels == c).nonzero().flatten().tolist()
            rng.shuffle(idx)
            test_idx += sorted(idx[:TEST_PER_CLASS])
            train_idx += sorted(idx[TEST_PER_CLASS:][: counts[c]])
        full = TensorSplit(images, labels)
        train, test = full.subset(train_idx), full.subset(test_idx)
        val, test, protocol = split_val(test, spec)
        x = train.images.float() / 255.0
        mean = tuple(round(float(v), 4) for v in x.mean(dim=(0, 2, 3)))
        std = tuple(round(float(v), 4) for v in x.std(dim=(0, 2, 3)))
        return LTData(
            name=spec.name,
            num_classes=10,
            class_names=[str(c) for c in range(10)],
            train_counts=[min(counts[c], int((labels == c).sum()) - TEST_PER_CLASS) for c in range(10)],
            train=train,
            val=val,
            test=test,
            mean=mean,
            std=std,
            image_size=32,
            val_protocol=protocol,
            imbalance_ratio=None if spec.profile == "none" else float(spec.imbalance_ratio),
        )

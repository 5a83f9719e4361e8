"""Long-tail count profiles, shot groups and the balanced val/test split (METHODS §5)."""

from __future__ import annotations

import random
from typing import Sequence

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError
from ltsearch.metrics import shot_groups  # noqa: F401  (re-exported: the data layer's groups)

PROFILES = ("exp", "step", "none")


def check_ratio(imbalance_ratio: float | None, where: str) -> float:
    """Return the ratio as float or raise a one-line error naming ``where``."""
    if imbalance_ratio is None:
        raise LTSearchError(f"{where}: imbalance_ratio is empty; set dataset.imbalance_ratio, e.g. 100")
    ratio = float(imbalance_ratio)
    if not ratio > 1:
        raise LTSearchError(
            f"{where}: imbalance_ratio = {shown(imbalance_ratio)} is invalid; use a ratio > 1, e.g. 100 (or profile 'none')"
        )
    return ratio


def exp_counts(n_max: int, num_classes: int, imbalance_ratio: float) -> list[int]:
    """``n_i = int(n_max * (1/IR) ** (i / (C - 1)))`` (METHODS §5), never below 1.

    >>> exp_counts(5000, 10, 100)
    [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    """
    if num_classes == 1:
        return [n_max]
    return [
        max(1, int(n_max * (1.0 / imbalance_ratio) ** (i / (num_classes - 1)))) for i in range(num_classes)
    ]


def step_counts(n_max: int, num_classes: int, imbalance_ratio: float) -> list[int]:
    """The first half of the classes keep ``n_max``, the rest ``int(n_max / IR)`` (at least 1)."""
    n_min = max(1, int(n_max / imbalance_ratio))
    half = num_classes // 2
    return [n_max] * half + [n_min] * (num_classes - half)


def profile_counts(profile: str, n_max: int, num_classes: int, imbalance_ratio: float | None, where: str) -> list[int]:
    """Counts for ``profile`` in ("exp", "step", "none"); "none" keeps ``n_max`` everywhere."""
    if profile == "none":
        return [n_max] * num_classes
    if profile not in PROFILES:
        raise LTSearchError(f"{where}: profile = {shown(profile)} is unknown; use one of {', '.join(PROFILES)}")
    ratio = check_ratio(imbalance_ratio, where)
    fn = exp_counts if profile == "exp" else step_counts
    return fn(n_max, num_classes, ratio)


def balanced_half(labels: Sequence[int], seed: int) -> tuple[list[int], list[int]]:
    """Split indices into (val, test): per class a seeded half (``n // 2``) goes to val.

    Both lists are sorted; they are disjoint and together cover every index.
    """
    by_class: dict[int, list[int]] = {}
    for i, y in enumerate(labels):
        by_class.setdefault(int(y), []).append(i)
    rng = random.Random(seed)
    val: list[int] = []
    test: list[int] = []
    for c in sorted(by_class):
        idx = by_class[c]
        picked = rng.sample(idx, len(idx) // 2)
        chosen = set(picked)
        val.extend(picked)
        test.extend(i for i in idx if i not in chosen)
    return sorted(val), sorted(test)


def first_per_class(labels: Sequence[int], counts: Sequence[int]) -> list[int]:
    """Indices of the first ``counts[c]`` samples of each class ``c``, in file order."""
    left = list(counts)
    keep = []
    for i, y in enumerate(labels):
        if left[y] > 0:
            left[y] -= 1
            keep.append(i)
    return keep

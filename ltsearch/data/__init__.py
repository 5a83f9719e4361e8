"""Long-tailed datasets (METHODS §5): count profiles, the dataset registry, split handling.

>>> from ltsearch.data import DatasetSpec, load_dataset
>>> data = load_dataset(DatasetSpec("digits-lt", imbalance_ratio=100))
>>> data.train_counts[0], data.val_protocol
(120, 'test-half')

``make_loader`` (device-resident tensor batches or a DataLoader) lives in
:mod:`ltsearch.data.loader`.
"""

from __future__ import annotations

from . import cifar, digits, files  # noqa: F401  (register the builders)
from .base import (
    DATASETS,
    DatasetBuilder,
    DatasetSpec,
    FileSplit,
    LTData,
    TensorSplit,
    summarize,
)
from .profiles import balanced_half, exp_counts, shot_groups, step_counts

__all__ = [
    "DATASETS",
    "DatasetBuilder",
    "DatasetSpec",
    "FileSplit",
    "LTData",
    "TensorSplit",
    "balanced_half",
    "describe_dataset",
    "exp_counts",
    "load_dataset",
    "shot_groups",
    "step_counts",
    "summarize",
]


def _spec(spec) -> DatasetSpec:
    if isinstance(spec, DatasetSpec):
        return spec
    if isinstance(spec, str):
        return DatasetSpec(name=spec)
    if isinstance(spec, dict):
        return DatasetSpec(**spec)
    return DatasetSpec.from_config(spec)  # a DatasetConfig


def load_dataset(spec: DatasetSpec) -> LTData:
    """Load ``spec`` (a DatasetSpec = DatasetConfig, dict or name); unknown names raise LTSearchError.

    The training split carries the checked ``spec.augment`` recipe (``auto`` resolved)."""
    from .augment import resolve_augment

    spec = _spec(spec)
    builder = DATASETS.get(spec.name)
    augment = resolve_augment(spec.augment, builder.kind, spec.name)  # before any file is read
    data = builder.load(spec)
    data.train.augment = augment
    return data


def describe_dataset(spec: DatasetSpec) -> dict:
    """JSON-able counts, groups and split sizes; CIFAR needs no images, split-file sets only the lists."""
    spec = _spec(spec)
    return DATASETS.get(spec.name).describe(spec)

"""Dataset types: the spec a trial asks for, the loaded splits, the builder registry (METHODS §5)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, Union

from ltsearch.config import VAL_MODES, DatasetConfig  # noqa: F401  (VAL_MODES re-exported)
from ltsearch.errors import LTSearchError
from ltsearch.registry import Registry

from .profiles import balanced_half, shot_groups

if TYPE_CHECKING:  # torch is imported lazily by the modules that need it
    import torch

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# What to load: the trial config's dataset section is the spec (one type, two names).
DatasetSpec = DatasetConfig


@dataclass
class TensorSplit:
    """A split held in memory: ``images`` uint8 [N, 3, H, W] (CPU), ``labels`` int64 [N]."""

    images: "torch.Tensor"
    labels: "torch.Tensor"
    augment: str = "pad-crop-flip"  # the training recipe (ltsearch.data.augment), set by load_dataset

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def label_list(self) -> list[int]:
        return self.labels.tolist()

    def subset(self, idx: Sequence[int]) -> "TensorSplit":
        import torch

        index = torch.as_tensor(list(idx), dtype=torch.long)
        return TensorSplit(self.images[index], self.labels[index])


@dataclass
class FileSplit:
    """A split of image files decoded on the fly: absolute ``paths`` and integer ``labels``."""

    paths: list[str]
    labels: list[int]
    augment: str = "rrc-flip-jitter"  # the training recipe (ltsearch.data.augment), set by load_dataset

    def __len__(self) -> int:
        return len(self.labels)

    def label_list(self) -> list[int]:
        return list(self.labels)

    def subset(self, idx: Sequence[int]) -> "FileSplit":
        return FileSplit([self.paths[i] for i in idx], [self.labels[i] for i in idx])


Split = Union[TensorSplit, FileSplit]


@dataclass
class LTData:
    """A loaded long-tailed dataset; ``train_counts`` are per class of the training split."""

    name: str
    num_classes: int
    class_names: list[str]
    train_counts: list[int]
    train: Split
    val: Split
    test: Split
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: int
    val_protocol: str  # "official-val" | "test-half" | "test"
    imbalance_ratio: float | None = None  # the requested ratio (None: fixed profile)
    groups: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.groups:
            self.groups = shot_groups(self.train_counts)


class DatasetBuilder:
    """A registered dataset: ``load(spec) -> LTData``; ``describe(spec)`` may skip the images."""

    name = ""  # set by the registry
    kind = "tensor"  # "tensor": TensorSplit images in memory | "file": FileSplit decoded on the fly
    default_imbalance_ratio: float | None = 100.0  # None: the dataset has a fixed profile

    def load(self, spec: DatasetSpec) -> LTData:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self, spec: DatasetSpec) -> dict:
        return summarize(self.load(spec))


DATASETS: Registry[DatasetBuilder] = Registry("dataset", instances=True)  # @DATASETS.register("name")


def default_root(name: str) -> Path:
    """``$LTSEARCH_DATA/<name>``, else ``~/.cache/ltsearch/data/<name>``."""
    return Path(os.environ.get("LTSEARCH_DATA") or "~/.cache/ltsearch/data").expanduser().absolute() / name


def resolve_root(spec: DatasetSpec, must_exist: bool = True) -> Path:
    # absolute at use: a relative --data-root means the shell's folder, also inside a Ray trial
    root = Path(spec.root).expanduser().absolute() if spec.root else default_root(spec.name)
    if must_exist and not root.is_dir():
        raise LTSearchError(
            f"{spec.name}: data root {root} does not exist; give --data-root /path/to/{spec.name} "
            "(dataset.root in a config, or the LTSEARCH_DATA folder)"
        )
    return root


def split_val(test: Split, spec: DatasetSpec, official_val: Split | None = None) -> tuple[Split, Split, str]:
    """(val, test, protocol): "test" -> both the full test set; an official val file wins;
    otherwise a seeded balanced half of test is val and the other half is the reported test."""
    if spec.val == "test":
        return test, test, "test"
    if official_val is not None:
        return official_val, test, "official-val"
    val_idx, test_idx = balanced_half(test.label_list(), spec.seed)
    return test.subset(val_idx), test.subset(test_idx), "test-half"


def half_sizes(test_size_per_class: Sequence[int], val_mode: str) -> tuple[int, int]:
    """(val, test) sizes that :func:`split_val` gives a test set with these per-class sizes."""
    total = sum(test_size_per_class)
    if val_mode == "test":
        return total, total
    val = sum(n // 2 for n in test_size_per_class)
    return val, total - val


def summarize(data: LTData) -> dict:
    """The JSON-able description of a loaded dataset."""
    counts = list(data.train_counts)
    nonzero = [n for n in counts if n > 0]
    return {
        "name": data.name,
        "num_classes": data.num_classes,
        "imbalance_ratio": data.imbalance_ratio,
        "actual_imbalance_ratio": (max(nonzero) / min(nonzero)) if nonzero else None,
        "train_counts": counts,
        "num_train": sum(counts),
        "groups": {k: {"classes": v, "size": len(v)} for k, v in data.groups.items()},
        "val_protocol": data.val_protocol,
        "num_val": len(data.val),
        "num_test": len(data.test),
        "image_size": data.image_size,
        "class_names": list(data.class_names),
    }

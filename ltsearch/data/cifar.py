"""CIFAR-10-LT / CIFAR-100-LT (METHODS §5).

Class ``i`` keeps the FIRST ``n_i = int(n_max * (1/IR) ** (i / (C - 1)))`` training images of
class ``i`` in file order (the batch-file order of the torchvision release, or sorted file
names in an image-folder tree); the test set stays balanced. Sources under ``root``:
torchvision's ``cifar-10-batches-py`` / ``cifar-100-python`` pickles, or an image-folder tree
``train/<class>/*.jpg`` + ``test/<class>/*.jpg`` (classes = sorted folder names). Decoded
images of a tree are cached as a ``.pt`` file (see :mod:`ltsearch.data.cache`).
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

from ltsearch.errors import LTSearchError

from .base import (
    CIFAR_MEAN,
    CIFAR_STD,
    DATASETS,
    DatasetBuilder,
    DatasetSpec,
    LTData,
    TensorSplit,
    half_sizes,
    resolve_root,
    split_val,
)
from .cache import cached_tensors, tree_fingerprint
from .images import class_folders, decode_images, list_images
from .profiles import first_per_class, profile_counts, shot_groups

CIFAR10_CLASSES = "airplane automobile bird cat deer dog frog horse ship truck".split()
CIFAR100_CLASSES = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup
dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion
lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear
pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark
shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone
television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()


class CifarLT(DatasetBuilder):
    """CIFAR-LT from torchvision pickles or an image-folder tree (first n_i images per class)."""

    num_classes = 10
    n_max = 5000
    test_per_class = 1000
    class_names = CIFAR10_CLASSES
    tv_folder = "cifar-10-batches-py"
    tv_train = [f"data_batch_{i}" for i in range(1, 6)]
    tv_test = ["test_batch"]
    tv_label_key = "labels"

    def counts(self, spec: DatasetSpec) -> list[int]:
        return profile_counts(spec.profile, self.n_max, self.num_classes, spec.imbalance_ratio, spec.name)

    def describe(self, spec: DatasetSpec) -> dict:
        """Counts from the formula: no image is read."""
        spec.check()
        counts = self.counts(spec)
        groups = shot_groups(counts)
        num_val, num_test = half_sizes([self.test_per_class] * self.num_classes, spec.val)
        return {
            "name": spec.name,
            "num_classes": self.num_classes,
            "imbalance_ratio": None if spec.profile == "none" else float(spec.imbalance_ratio),
            "actual_imbalance_ratio": max(counts) / min(counts),
            "train_counts": counts,
            "num_train": sum(counts),
            "groups": {k: {"classes": v, "size": len(v)} for k, v in groups.items()},
            "val_protocol": "test" if spec.val == "test" else "test-half",
            "num_val": num_val,
            "num_test": num_test,
            "image_size": 32,
            "class_names": list(self.class_names),
        }

    def load(self, spec: DatasetSpec) -> LTData:
        spec.check()
        counts = self.counts(spec)
        root = resolve_root(spec, must_exist=not spec.download)
        if (root / self.tv_folder).is_dir():
            train, test, names = self._load_pickles(root, counts)
        elif (root / "train").is_dir():
            train, test, names = self._load_tree(root, counts, spec)
        elif spec.download:
            self._download(root)
            train, test, names = self._load_pickles(root, counts)
        else:
            raise LTSearchError(
                f"{spec.name}: {root} has neither {self.tv_folder}/ nor train/<class>/ folders; "
                f"give --data-root a CIFAR folder (dataset.root in a config) or set dataset.download=true"
            )
        import torch

        train_counts = torch.bincount(train.labels, minlength=self.num_classes).tolist()
        if train_counts != counts:
            warnings.warn(f"{spec.name}: {root} has fewer images than the profile asks for; got {train_counts}")
        val, test, protocol = split_val(test, spec)
        return LTData(
            name=spec.name,
            num_classes=self.num_classes,
            class_names=names,
            train_counts=train_counts,
            train=train,
            val=val,
            test=test,
            mean=CIFAR_MEAN,
            std=CIFAR_STD,
            image_size=32,
            val_protocol=protocol,
            imbalance_ratio=None if spec.profile == "none" else float(spec.imbalance_ratio),
        )

    # -- torchvision's pickled release ------------------------------------------------------
    def _download(self, root: Path) -> None:
        import torchvision

        cls = torchvision.datasets.CIFAR10 if self.num_classes == 10 else torchvision.datasets.CIFAR100
        try:
            cls(str(root), train=True, download=True)
        except Exception as err:
            raise LTSearchError(f"{root}: CIFAR download failed ({err}); download it by hand into {root}") from None

    def _read_batch(self, path: Path):
        import numpy as np

        if not path.is_file():
            raise LTSearchError(f"{path}: missing CIFAR batch file; re-download the dataset")
        try:
            with open(path, "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(entry[self.tv_label_key], dtype=np.int64)
        except Exception as err:
            first = (str(err).splitlines() or [""])[0]
            raise LTSearchError(
                f"{path}: unreadable CIFAR batch file ({type(err).__name__}: {first}); "
                "it may be truncated, re-download it"
            ) from None
        if len(labels) != len(data):
            raise LTSearchError(f"{path}: {len(data)} images but {len(labels)} labels; re-download it")
        bad = (labels < 0) | (labels >= self.num_classes)
        if bad.any():
            raise LTSearchError(
                f"{path}: label {int(labels[bad][0])} out of range [0, {self.num_classes}); "
                "is this the right CIFAR variant?"
            )
        return data, labels

    def _load_pickles(self, root: Path, counts: list[int]):
        import numpy as np
        import torch

        folder = root / self.tv_folder
        parts = [self._read_batch(folder / name) for name in self.tv_train]
        data = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        keep = first_per_class(labels.tolist(), counts)
        train = TensorSplit(torch.from_numpy(data[keep]).contiguous(), torch.from_numpy(labels[keep]))
        tparts = [self._read_batch(folder / name) for name in self.tv_test]
        test = TensorSplit(
            torch.from_numpy(np.concatenate([p[0] for p in tparts])).contiguous(),
            torch.from_numpy(np.concatenate([p[1] for p in tparts])),
        )
        return train, test, list(self.class_names)

    # -- image-folder tree ------------------------------------------------------------------
    def _load_tree(self, root: Path, counts: list[int], spec: DatasetSpec):
        train_dir, test_dir = root / "train", root / "test"
        if not test_dir.is_dir():
            raise LTSearchError(f"{test_dir}: missing test folder; a CIFAR tree needs train/<class>/ and test/<class>/")
        names = [p.name for p in class_folders(train_dir)]
        if len(names) != self.num_classes:
            raise LTSearchError(
                f"{train_dir}: {len(names)} class folders, {spec.name} needs {self.num_classes}; "
                "point dataset.root at the right CIFAR tree"
            )
        test_names = [p.name for p in class_folders(test_dir)]
        if test_names != names:
            raise LTSearchError(
                f"{test_dir}: class folders {test_names[:5]}... differ from {train_dir}'s; fix the tree"
            )
        key = {"root": str(root.resolve()), "name": spec.name, "counts": counts, "v": 1,
               "tree": tree_fingerprint([train_dir, test_dir])}

        def build() -> dict:
            import torch

            paths, labels = [], []
            for c, name in enumerate(names):
                files = list_images(train_dir / name)[: counts[c]]
                paths += files
                labels += [c] * len(files)
            tpaths, tlabels = [], []
            for c, name in enumerate(names):
                files = list_images(test_dir / name)
                tpaths += files
                tlabels += [c] * len(files)
            images = decode_images(paths + tpaths, 32)
            return {
                "train_images": images[: len(paths)].clone(),
                "train_labels": torch.tensor(labels, dtype=torch.int64),
                "test_images": images[len(paths):].clone(),
                "test_labels": torch.tensor(tlabels, dtype=torch.int64),
            }

        blob = cached_tensors(spec.name, key, build)
        train = TensorSplit(blob["train_images"], blob["train_labels"])
        test = TensorSplit(blob["test_images"], blob["test_labels"])
        return train, test, names


@DATASETS.register("cifar10-lt")
class Cifar10LT(CifarLT):
    """CIFAR-10-LT: 10 classes, n_max 5000, exp/step profile (IR100: 12,406 images)."""



@DATASETS.register("cifar100-lt")
class Cifar100LT(CifarLT):
    """CIFAR-100-LT: 100 classes, n_max 500, exp/step profile (IR100: 10,847 images)."""

    num_classes = 100
    n_max = 500
    test_per_class = 100
    class_names = CIFAR100_CLASSES
    tv_folder = "cifar-100-python"
    tv_train = ["train"]
    tv_test = ["test"]
    tv_label_key = "fine_labels"

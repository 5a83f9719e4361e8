"""File-list datasets decoded on the fly (METHODS §5): ImageNet-LT, Places-LT, iNaturalist 2018
and ``imagefolder-lt`` (any ``train/<class>/``, ``test/<class>/`` tree). No image is opened here."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from ltsearch.errors import LTSearchError

from .base import (
    DATASETS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    DatasetBuilder,
    DatasetSpec,
    FileSplit,
    LTData,
    resolve_root,
    split_val,
)
from .images import class_folders, list_images
from .profiles import profile_counts
from .splitfiles import check_labels, find_split_file, read_coco, read_list


def counts_of(labels: list[int], num_classes: int, where: Path) -> list[int]:
    """Per-class counts; a class without training images is an error (likely a truncated file)."""
    counts = [0] * num_classes
    for y in labels:
        counts[y] += 1
    empty = [c for c, n in enumerate(counts) if n == 0]
    if empty:
        raise LTSearchError(
            f"{where}: class {empty[0]} has no training images ({len(empty)} empty classes); "
            "the split file may be truncated, re-download it"
        )
    return counts


def names_from_paths(paths: list[str], labels: list[int], num_classes: int) -> list[str]:
    """Class name = the folder of the class's first training file, relative to the folder all
    classes share: ``train/n01440764`` -> ``n01440764``, Places-LT's ``a/apartment_building/outdoor``
    stays whole (not ``outdoor``)."""
    folders: list[PurePosixPath | None] = [None] * num_classes
    for p, y in zip(paths, labels):
        if folders[y] is None:
            folders[y] = PurePosixPath(p.replace("\\", "/")).parent
    found = [f for f in folders if f is not None]
    common = PurePosixPath(os.path.commonpath([str(f) for f in found])) if len(set(found)) > 1 else None
    names = []
    for c, f in enumerate(folders):
        name = str(f.relative_to(common)) if f is not None and common is not None else (f.name if f else "")
        names.append(name if name not in ("", ".") else str(c))
    return names


def build_data(spec: DatasetSpec, train: FileSplit, test: FileSplit, val: FileSplit | None,
               num_classes: int, names: list[str], counts: list[int], ratio: float | None) -> LTData:
    val, test, protocol = split_val(test, spec, official_val=val)
    return LTData(
        name=spec.name, num_classes=num_classes, class_names=names, train_counts=counts,
        train=train, val=val, test=test, mean=IMAGENET_MEAN, std=IMAGENET_STD,
        image_size=224, val_protocol=protocol, imbalance_ratio=ratio,
    )


def absolute(root: Path, paths: list[str]) -> list[str]:
    return [str(root / p) for p in paths]


class SplitFileDataset(DatasetBuilder):
    """``<prefix>_{train,val,test}.txt`` in ``root`` or ``root/splits``; paths relative to ``root``."""

    prefix = ""
    kind = "file"
    default_imbalance_ratio = None

    def load(self, spec: DatasetSpec) -> LTData:
        spec.check()
        root = resolve_root(spec)
        train_file = find_split_file(root, f"{self.prefix}_train.txt")
        tr_paths, tr_labels = read_list(train_file)
        num_classes = max(tr_labels) + 1
        counts = counts_of(tr_labels, num_classes, train_file)
        test_file = find_split_file(root, f"{self.prefix}_test.txt")
        te_paths, te_labels = read_list(test_file, num_classes)
        val_file = find_split_file(root, f"{self.prefix}_val.txt", required=False)
        val = None
        if val_file is not None:
            va_paths, va_labels = read_list(val_file, num_classes)
            val = FileSplit(absolute(root, va_paths), va_labels)
        train = FileSplit(absolute(root, tr_paths), tr_labels)
        test = FileSplit(absolute(root, te_paths), te_labels)
        names = names_from_paths(tr_paths, tr_labels, num_classes)
        return build_data(spec, train, test, val, num_classes, names, counts, None)


@DATASETS.register("imagenet-lt")
class ImageNetLT(SplitFileDataset):
    """ImageNet-LT: ImageNet_LT_{train,val,test}.txt over an ImageNet-2012 folder (fixed profile)."""

    prefix = "ImageNet_LT"


@DATASETS.register("places-lt")
class PlacesLT(SplitFileDataset):
    """Places-LT: Places_LT_{train,val,test}.txt over a Places-365 folder (fixed profile)."""

    prefix = "Places_LT"


@DATASETS.register("inat2018")
class INat2018(DatasetBuilder):
    """iNaturalist 2018: train2018.json/val2018.json or iNaturalist18_{train,val}.txt; val serves as test."""

    kind = "file"
    default_imbalance_ratio = None

    def _read(self, root: Path, part: str, num_classes: int | None):
        json_file = find_split_file(root, f"{part}2018.json", required=False)
        if json_file is not None:
            paths, labels, names = read_coco(json_file)
            check_labels(json_file, labels, num_classes or max(max(labels) + 1, 1))
            return json_file, paths, labels, names
        txt = find_split_file(root, f"iNaturalist18_{part}.txt", required=False)
        if txt is None:
            raise LTSearchError(
                f"{root}: neither {part}2018.json nor iNaturalist18_{part}.txt found (also looked in "
                f"{root / 'splits'}); put the iNaturalist 2018 split files in the data root"
            )
        paths, labels = read_list(txt, num_classes)
        return txt, paths, labels, {}

    def load(self, spec: DatasetSpec) -> LTData:
        spec.check()
        root = resolve_root(spec)
        train_file, tr_paths, tr_labels, cats = self._read(root, "train", None)
        num_classes = max(tr_labels) + 1
        counts = counts_of(tr_labels, num_classes, train_file)
        _, te_paths, te_labels, _ = self._read(root, "val", num_classes)
        names = [cats[c] for c in range(num_classes)] if all(c in cats for c in range(num_classes)) \
            else names_from_paths(tr_paths, tr_labels, num_classes)
        train = FileSplit(absolute(root, tr_paths), tr_labels)
        test = FileSplit(absolute(root, te_paths), te_labels)
        return build_data(spec, train, test, None, num_classes, names, counts, None)


@DATASETS.register("imagefolder-lt")
class ImageFolderLT(DatasetBuilder):
    """Any image-folder tree root/{train,test}/<class>/*, as is or cut to an exp / step profile.

    ``root/val/<class>/*``, when present, is the official val split.

    profile "none" uses the tree as is; "exp" / "step" keep the first (sorted by name)
    ``min(available, n_i)`` files of class ``i`` with ``n_max`` = the largest class.
    """

    kind = "file"


    def _folder(self, folder: Path, names: list[str]) -> FileSplit:
        index = {n: c for c, n in enumerate(names)}
        paths, labels = [], []
        for sub in class_folders(folder):
            if sub.name not in index:
                raise LTSearchError(
                    f"{sub}: class folder not in {folder.parent / 'train'}; remove it or add training images"
                )
            files = list_images(sub)
            paths += files
            labels += [index[sub.name]] * len(files)
        if not paths:
            raise LTSearchError(f"{folder}: no images found; expected {folder}/<class>/*.jpg")
        return FileSplit(paths, labels)

    def load(self, spec: DatasetSpec) -> LTData:
        spec.check()
        root = resolve_root(spec)
        train_dir, test_dir, val_dir = root / "train", root / "test", root / "val"
        for d in (train_dir, test_dir):
            if not d.is_dir():
                raise LTSearchError(
                    f"{d}: missing folder; imagefolder-lt needs {root}/train/<class>/ and {root}/test/<class>/"
                )
        folders = class_folders(train_dir)
        if not folders:
            raise LTSearchError(f"{train_dir}: no class folders; expected {train_dir}/<class>/*.jpg")
        names = [f.name for f in folders]
        files = [list_images(f) for f in folders]
        available = [len(f) for f in files]
        if 0 in available:
            raise LTSearchError(f"{folders[available.index(0)]}: no images; add images or remove the folder")
        if spec.profile == "none":
            counts, ratio = available, None
        else:
            wanted = profile_counts(spec.profile, max(available), len(names), spec.imbalance_ratio, spec.name)
            counts, ratio = [min(a, w) for a, w in zip(available, wanted)], float(spec.imbalance_ratio)
        paths, labels = [], []
        for c, f in enumerate(files):
            paths += f[: counts[c]]
            labels += [c] * counts[c]
        train = FileSplit(paths, labels)
        test = self._folder(test_dir, names)
        val = self._folder(val_dir, names) if val_dir.is_dir() else None
        return build_data(spec, train, test, val, len(names), names, counts, ratio)

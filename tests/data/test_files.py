"""File-list datasets on generated tiny trees: ImageNet-LT / Places-LT split files, iNaturalist
(JSON and txt), imagefolder-lt; and their one-line errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ltsearch.data import DatasetSpec, FileSplit, describe_dataset, load_dataset
from ltsearch.errors import LTSearchError

COUNTS = [6, 4, 2]  # training images per class
TEST_PER_CLASS = 4


def write_image(path: Path, value: int = 0) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((12, 10, 3), value, dtype=np.uint8)).save(path)
    return str(path)


def make_split_tree(root: Path, prefix: str, splits_dir: bool = False) -> Path:
    """``root/train/c{c}/...`` images and ``<prefix>_{train,val,test}.txt`` lists."""
    lists = {"train": [], "val": [], "test": []}
    for c, n in enumerate(COUNTS):
        for part, k in (("train", n), ("val", 2), ("test", TEST_PER_CLASS)):
            for j in range(k):
                rel = f"{part}/c{c}/{j}.jpg"
                write_image(root / rel, 10 * c + j)
                lists[part].append(f"{rel} {c}")
    folder = root / "splits" if splits_dir else root
    folder.mkdir(parents=True, exist_ok=True)
    for part, lines in lists.items():
        (folder / f"{prefix}_{part}.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("name,prefix,splits_dir", [("imagenet-lt", "ImageNet_LT", False),
                                                    ("places-lt", "Places_LT", True)])
def test_split_file_datasets(tmp_path, name, prefix, splits_dir):
    root = make_split_tree(tmp_path / name, prefix, splits_dir)
    data = load_dataset(DatasetSpec(name, root=str(root)))
    assert isinstance(data.train, FileSplit) and data.num_classes == 3
    assert data.train_counts == COUNTS and data.val_protocol == "official-val"
    assert len(data.val) == 6 and len(data.test) == 3 * TEST_PER_CLASS
    assert data.class_names == ["c0", "c1", "c2"] and data.image_size == 224
    assert all(Path(p).is_file() for p in data.train.paths + data.val.paths + data.test.paths)
    assert data.mean == (0.485, 0.456, 0.406)
    info = describe_dataset(DatasetSpec(name, root=str(root)))
    json.dumps(info)
    assert info["num_train"] == sum(COUNTS) and info["groups"]["few"]["size"] == 3
    tested = load_dataset(DatasetSpec(name, root=str(root), val="test"))
    assert tested.val_protocol == "test" and tested.val.paths == tested.test.paths


def test_split_files_without_val_use_balanced_half(tmp_path):
    root = make_split_tree(tmp_path / "inet", "ImageNet_LT")
    (root / "ImageNet_LT_val.txt").unlink()
    data = load_dataset(DatasetSpec("imagenet-lt", root=str(root), seed=3))
    assert data.val_protocol == "test-half"
    assert sorted(data.val.labels) == [0, 0, 1, 1, 2, 2] and not set(data.val.paths) & set(data.test.paths)


def test_truncated_split_line_names_file_and_line(tmp_path):
    root = make_split_tree(tmp_path / "inet", "ImageNet_LT")
    f = root / "ImageNet_LT_train.txt"
    f.write_text(f.read_text() + "train/c2/99.jp")
    with pytest.raises(LTSearchError, match=r"ImageNet_LT_train\.txt:13: .*truncated") as err:
        load_dataset(DatasetSpec("imagenet-lt", root=str(root)))
    assert "\n" not in str(err.value)


def test_label_out_of_range_names_file(tmp_path):
    root = make_split_tree(tmp_path / "places", "Places_LT")
    f = root / "Places_LT_test.txt"
    f.write_text(f.read_text() + "test/c0/0.jpg 7\n")
    with pytest.raises(LTSearchError, match=r"Places_LT_test\.txt:13: label 7 out of range \[0, 3\)"):
        load_dataset(DatasetSpec("places-lt", root=str(root)))
    f = root / "Places_LT_train.txt"
    f.write_text("train/c0/0.jpg -1\n")
    with pytest.raises(LTSearchError, match=r"Places_LT_train\.txt:1: label -1"):
        load_dataset(DatasetSpec("places-lt", root=str(root)))


def test_missing_split_file_and_root(tmp_path):
    root = make_split_tree(tmp_path / "inet", "ImageNet_LT")
    (root / "ImageNet_LT_test.txt").unlink()
    with pytest.raises(LTSearchError, match="ImageNet_LT_test.txt: split file not found"):
        load_dataset(DatasetSpec("imagenet-lt", root=str(root)))
    with pytest.raises(LTSearchError, match="does not exist"):
        load_dataset(DatasetSpec("imagenet-lt", root=str(tmp_path / "nope")))


def test_empty_class_in_train_list(tmp_path):
    root = make_split_tree(tmp_path / "inet", "ImageNet_LT")
    (root / "ImageNet_LT_train.txt").write_text("train/c0/0.jpg 0\ntrain/c2/0.jpg 2\n")
    with pytest.raises(LTSearchError, match="class 1 has no training images"):
        load_dataset(DatasetSpec("imagenet-lt", root=str(root)))


def make_inat(root: Path, form: str) -> Path:
    entries = {"train": [], "val": []}
    for c, n in enumerate(COUNTS):
        for part, k in (("train", n), ("val", 3)):
            for j in range(k):
                rel = f"train_val2018/Plantae/{c}/{part}{j}.jpg"
                write_image(root / rel, c)
                entries[part].append((rel, c))
    for part, items in entries.items():
        if form == "json":
            blob = {"images": [{"id": i, "file_name": p} for i, (p, _) in enumerate(items)],
                    "annotations": [{"image_id": i, "category_id": c} for i, (_, c) in enumerate(items)],
                    "categories": [{"id": c, "name": f"species{c}"} for c in range(len(COUNTS))]}
            (root / f"{part}2018.json").write_text(json.dumps(blob))
        else:
            (root / f"iNaturalist18_{part}.txt").write_text("".join(f"{p} {c}\n" for p, c in items))
    return root


@pytest.mark.parametrize("form", ["json", "txt"])
def test_inat2018_forms(tmp_path, form):
    root = make_inat(tmp_path / "inat", form)
    data = load_dataset(DatasetSpec("inat2018", root=str(root)))
    assert data.train_counts == COUNTS and data.val_protocol == "test-half"
    assert sorted(data.val.labels) == [0, 1, 2] and sorted(data.test.labels) == [0, 0, 1, 1, 2, 2]
    assert not set(data.val.paths) & set(data.test.paths)
    if form == "json":
        assert data.class_names == ["species0", "species1", "species2"]
    full = load_dataset(DatasetSpec("inat2018", root=str(root), val="test"))
    assert len(full.val) == len(full.test) == 9 and full.val_protocol == "test"


def test_inat_truncated_json(tmp_path):
    root = make_inat(tmp_path / "inat", "json")
    f = root / "val2018.json"
    f.write_text(f.read_text()[:-40])
    with pytest.raises(LTSearchError, match=r"val2018\.json: invalid JSON"):
        load_dataset(DatasetSpec("inat2018", root=str(root)))


def make_folder_tree(root: Path, counts=(10, 10, 10, 10), test=3) -> Path:
    for c, n in enumerate(counts):
        for j in range(n):
            write_image(root / "train" / f"k{c}" / f"{j:03d}.png", j)
        for j in range(test):
            write_image(root / "test" / f"k{c}" / f"{j:03d}.png", j)
    return root


def test_imagefolder_as_is_exp_and_step(tmp_path):
    root = make_folder_tree(tmp_path / "tree", counts=(10, 7, 10, 3))
    as_is = load_dataset(DatasetSpec("imagefolder-lt", root=str(root), profile="none"))
    assert as_is.train_counts == [10, 7, 10, 3] and as_is.imbalance_ratio is None
    assert as_is.class_names == ["k0", "k1", "k2", "k3"] and as_is.val_protocol == "test-half"
    assert sorted(as_is.val.labels) == [0, 1, 2, 3] and len(as_is.test) == 8
    exp = load_dataset(DatasetSpec("imagefolder-lt", root=str(root), profile="exp", imbalance_ratio=10))
    assert exp.train_counts == [10, 4, 2, 1]  # int(10 * 0.1 ** (i / 3)), capped by what exists
    assert exp.train.paths[:10] == as_is.train.paths[:10]
    assert exp.train.paths[10:14] == as_is.train.paths[10:14]  # the first files of class 1
    step = load_dataset(DatasetSpec("imagefolder-lt", root=str(root), profile="step", imbalance_ratio=5))
    assert step.train_counts == [10, 7, 2, 2]


def test_imagefolder_official_val_and_errors(tmp_path):
    root = make_folder_tree(tmp_path / "tree")
    write_image(root / "val" / "k0" / "a.png")
    data = load_dataset(DatasetSpec("imagefolder-lt", root=str(root), profile="none"))
    assert data.val_protocol == "official-val" and len(data.val) == 1 and len(data.test) == 12
    write_image(root / "test" / "zebra" / "a.png")
    with pytest.raises(LTSearchError, match="zebra"):
        load_dataset(DatasetSpec("imagefolder-lt", root=str(root), profile="none"))
    with pytest.raises(LTSearchError, match="imbalance_ratio"):
        load_dataset(DatasetSpec("imagefolder-lt", root=str(root), profile="exp", imbalance_ratio=1))
    bare = tmp_path / "bare"
    write_image(bare / "train" / "k0" / "a.png")
    with pytest.raises(LTSearchError, match=r"bare/test: missing folder"):
        load_dataset(DatasetSpec("imagefolder-lt", root=str(bare)))


def test_places_lt_class_names_are_the_full_relative_class_path(tmp_path):
    """Places-365 classes nest (``a/apartment_building/outdoor``): the name keeps the whole path."""
    root = tmp_path / "places"
    classes = ["a/abbey", "a/apartment_building/outdoor", "b/beach"]
    lists = {"train": [], "test": []}
    for c, cls in enumerate(classes):
        for part, k in (("train", COUNTS[c]), ("test", 2)):
            for j in range(k):
                rel = f"data_256/{cls}/{part}{j}.jpg"
                write_image(root / rel, c)
                lists[part].append(f"/{rel} {c}" if part == "train" else f"{rel} {c}")
    for part, lines in lists.items():
        (root / f"Places_LT_{part}.txt").write_text("\n".join(lines) + "\n")
    data = load_dataset(DatasetSpec("places-lt", root=str(root)))
    assert data.class_names == classes


def test_augment_is_part_of_the_config(tmp_path):
    root = make_split_tree(tmp_path / "inet", "ImageNet_LT")
    assert load_dataset(DatasetSpec("imagenet-lt", root=str(root))).train.augment == "rrc-flip-jitter"  # auto
    data = load_dataset(DatasetSpec("imagenet-lt", root=str(root), augment="resize-crop-flip"))
    assert data.train.augment == "resize-crop-flip"
    with pytest.raises(LTSearchError, match="dataset.augment = 'sharpen'"):
        load_dataset(DatasetSpec("imagenet-lt", root=str(root), augment="sharpen"))
    with pytest.raises(LTSearchError, match="held as tensors"):
        load_dataset(DatasetSpec("digits-lt", augment="rrc-flip"))
    assert load_dataset(DatasetSpec("digits-lt", augment="none")).train.augment == "none"

"""Inputs read from disk before anything is written (``data/``, checkpoints, earlier searches):
missing roots, broken split files, corrupt images, unreadable checkpoints, searches that do not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import cfg, check_case


def _png(path: Path, size: int = 32) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (120, 30, 200)).save(path)


def _cifar_tree(tmp: Path, corrupt: bool) -> str:
    root = tmp / "cifar"
    for split in ("train", "test"):
        for c in range(10):
            for i in range(2):
                _png(root / split / f"class{c}" / f"{i}.png")
    if corrupt:
        (root / "train" / "class0" / "0.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    return str(root)


def _split_root(tmp: Path, train_text: str | None, test_text: str | None = "a/0.png 0\n") -> str:
    root = tmp / "inet"
    root.mkdir()
    if train_text is not None:
        (root / "ImageNet_LT_train.txt").write_text(train_text)
    if test_text is not None:
        (root / "ImageNet_LT_test.txt").write_text(test_text)
    return str(root)


def _bad_ckpt(tmp: Path) -> str:
    (tmp / "stage1.pt").write_bytes(b"PK\x03\x04 this is not a torch checkpoint")
    return str(tmp / "stage1.pt")


CASES = [
    ("missing-data-root", lambda t: ["train", "--config", cfg(t, **{"dataset.name": "cifar10-lt",
                                                                      "dataset.root": str(t / "nothere")})],
     ["nothere", "does not exist"]),
    ("missing-data-root-run", lambda t: ["run", "ce", "--dataset", "cifar10-lt", "--data-root", str(t / "nothere")],
     ["nothere"]),
    ("missing-split-file", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root", _split_root(t, None)],
     ["ImageNet_LT_train.txt", "not found"]),
    ("truncated-split-file", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root",
                                        _split_root(t, "a/0.png 0\na/1.png 1\na/2.pn")],
     ["ImageNet_LT_train.txt:3", "truncated"]),
    ("label-out-of-range", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root",
                                      _split_root(t, "a/0.png 0\na/1.png 1\n", "a/0.png 7\n")],
     ["ImageNet_LT_test.txt", "label 7", "out of range"]),
    ("label-1e12", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root",
                              _split_root(t, "a/0.png 0\na/1.png 1000000000000\n")],
     ["ImageNet_LT_train.txt:2", "label 1000000000000", "out of range"]),
    ("corrupt-image", lambda t: ["train", "--config", cfg(t, **{"dataset.name": "cifar10-lt",
                                                                  "dataset.root": _cifar_tree(t, True)})],
     ["0.png", "cannot decode image"]),
    ("unreadable-checkpoint", lambda t: ["train", "--config", cfg(
        t, **{"method.name": "lort", "method.params": {"backbone": _bad_ckpt(t)}})],
     ["stage1.pt", "unreadable checkpoint"]),
    ("export-no-runs", lambda t: ["export", "--dataset", "digits-lt", "--output", "best.yaml"], ["digits-lt"]),
    ("resume-unknown-search", lambda t: ["run", "kps", "--resume", "--name", "ghost"], ["ghost", "--name"]),
    ("resume-no-search", lambda t: ["run", "kps", "--resume"], ["--resume", "no search"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_data_one_line_exit_2_writes_nothing(case, tmp_path):
    check_case(case, tmp_path)


def test_relative_data_root_means_the_shell_folder(tmp_path, monkeypatch):
    """A relative ``--data-root`` is resolved when the data is loaded (the driver's folder), so the
    file paths a trial opens are absolute and still valid in the trial's own working folder."""
    from ltsearch.data import DatasetSpec, load_dataset

    _cifar_tree(tmp_path, corrupt=False)
    monkeypatch.chdir(tmp_path)
    data = load_dataset(DatasetSpec("imagefolder-lt", root="cifar", profile="none"))
    elsewhere = tmp_path / "trial-cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # as inside a Ray trial
    for split in (data.train, data.test):
        assert split.paths and all(Path(p).is_absolute() and Path(p).is_file() for p in split.paths)

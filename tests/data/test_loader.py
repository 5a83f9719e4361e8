"""The loaders: whole-batch tensor augmentation, (seed, epoch) determinism, the FileSplit DataLoader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ltsearch.data import FileSplit, TensorSplit
from ltsearch.data.augment import crop_flip, random_crop_flip
from ltsearch.data.loader import make_loader
from ltsearch.errors import LTSearchError

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def tensor_split(n=50, seed=0) -> TensorSplit:
    g = torch.Generator().manual_seed(seed)
    return TensorSplit(torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8),
                       torch.arange(n, dtype=torch.int64) % 5)


def test_random_crop_flip_matches_reference_and_bounds():
    x = tensor_split(64).images
    out, offsets, flips = random_crop_flip(x, torch.Generator().manual_seed(1))
    assert out.dtype == torch.uint8 and out.shape == x.shape
    assert offsets.shape == (64, 2) and int(offsets.min()) >= 0 and int(offsets.max()) <= 8
    assert flips.dtype == torch.bool and 0 < int(flips.sum()) < 64
    padded = F.pad(x, (4, 4, 4, 4))
    for i in range(64):
        dy, dx = offsets[i].tolist()
        ref = padded[i, :, dy:dy + 32, dx:dx + 32]
        assert torch.equal(out[i], ref.flip(-1) if flips[i] else ref)
    ident = crop_flip(x, torch.full((64, 2), 4), torch.zeros(64, dtype=torch.bool))
    assert torch.equal(ident, x)


def test_tensor_loader_train_batches_labels_and_normalisation():
    split = tensor_split(50)
    loader = make_loader(split, train=True, batch_size=16, device="cpu", seed=0, mean=MEAN, std=STD)
    assert len(loader) == 4
    xs, ys = zip(*loader)
    assert [len(y) for y in ys] == [16, 16, 16, 2]
    assert all(x.dtype == torch.float32 and x.shape[1:] == (3, 32, 32) for x in xs)
    assert all(y.dtype == torch.int64 for y in ys)
    assert sorted(torch.cat(ys).tolist()) == sorted(split.labels.tolist())  # every sample once
    lo = min((0 - m) / s for m, s in zip(MEAN, STD))
    hi = max((1 - m) / s for m, s in zip(MEAN, STD))
    x = torch.cat(xs)
    assert lo - 1e-5 <= float(x.min()) and float(x.max()) <= hi + 1e-5
    dropped = make_loader(split, train=True, batch_size=16, device="cpu", seed=0, mean=MEAN, std=STD,
                          drop_last=True)
    assert len(dropped) == 3 and len(list(dropped)) == 3


def test_tensor_loader_labels_follow_images():
    """Each augmented image still comes from the sample its label belongs to."""
    n = 40
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 3, 32, 32).contiguous() + 100
    split = TensorSplit(images, torch.arange(n, dtype=torch.int64))
    loader = make_loader(split, train=True, batch_size=8, device="cpu", seed=3, mean=(0, 0, 0), std=(1, 1, 1))
    for x, y in loader:
        centre = (x[:, 0, 16, 16] * 255).round().long()
        assert torch.equal(centre, y + 100)


def collect(loader):
    return [(x.clone(), y.clone()) for x, y in loader]


def same(a, b) -> bool:
    return all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


def test_tensor_loader_deterministic_per_seed_and_epoch():
    split = tensor_split(40)
    kw = dict(train=True, batch_size=16, device="cpu", mean=MEAN, std=STD)
    a, b = make_loader(split, seed=5, **kw), make_loader(split, seed=5, **kw)
    a.set_epoch(2)
    b.set_epoch(2)
    first = collect(a)
    assert same(first, collect(b))
    b.set_epoch(3)
    assert not same(first, collect(b))
    a.set_epoch(2)
    assert same(first, collect(a))  # resume: the same stream again
    c = make_loader(split, seed=6, **kw)
    c.set_epoch(2)
    assert not same(first, collect(c))
    # without set_epoch, a train loader advances by itself
    d = make_loader(split, seed=5, **kw)
    d.set_epoch(1)
    collect(d)
    assert same(collect(d), first)


def test_tensor_loader_eval_is_plain_and_ordered():
    split = tensor_split(30)
    loader = make_loader(split, train=False, batch_size=7, device="cpu", seed=0, mean=MEAN, std=STD)
    x = torch.cat([b[0] for b in loader])
    y = torch.cat([b[1] for b in loader])
    assert torch.equal(y, split.labels)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    assert torch.allclose(x, (split.images.float() / 255 - mean) / std, atol=1e-5)


def file_split(tmp_path, n=6, corrupt=None) -> FileSplit:
    paths = []
    for i in range(n):
        p = tmp_path / f"{i}.jpg"
        Image.fromarray(np.full((40, 48, 3), 20 * i, dtype=np.uint8)).save(p)
        paths.append(str(p))
    if corrupt is not None:
        (tmp_path / f"{corrupt}.jpg").write_bytes(b"\xff\xd8garbage")
    return FileSplit(paths, [i % 3 for i in range(n)])


def test_file_loader_train_and_eval(tmp_path):
    split = file_split(tmp_path)
    kw = dict(batch_size=4, device="cpu", seed=0, mean=MEAN, std=STD, image_size=32, num_workers=0)
    train = make_loader(split, train=True, **kw)
    assert len(train) == 2
    a = collect(train)
    assert a[0][0].shape == (4, 3, 32, 32) and a[0][0].dtype == torch.float32 and a[0][1].dtype == torch.int64
    assert sorted(torch.cat([y for _, y in a]).tolist()) == sorted(split.labels)
    train.set_epoch(0)
    assert same(a, collect(train))
    b = collect(make_loader(split, train=True, **kw))
    assert same(a, b)
    ev = make_loader(split, train=False, **kw)
    ys = torch.cat([y for _, y in ev])
    assert ys.tolist() == split.labels
    assert same(collect(ev), collect(ev))


def test_file_loader_corrupt_image_with_workers(tmp_path):
    split = file_split(tmp_path, corrupt=2)
    loader = make_loader(split, train=False, batch_size=2, device="cpu", seed=0, mean=MEAN, std=STD,
                         image_size=32, num_workers=1)
    with pytest.raises(LTSearchError, match=r"2\.jpg: cannot decode image") as err:
        list(loader)
    assert "\n" not in str(err.value)

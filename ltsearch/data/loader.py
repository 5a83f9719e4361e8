"""Batches of ``(x float32 normalised [B, 3, H, W], y int64)`` on the training device.

``TensorSplit``: the uint8 images move to the device once; shuffling, pad-4 crop, flip and
normalisation are whole-batch tensor ops (airbench style). ``FileSplit``: a DataLoader with
torchvision transforms. Either way epoch ``e``'s order and augmentation are a fixed function of
``(seed, e)``: call ``set_epoch(e)`` (a train loader also advances by itself after each full pass).
"""

from __future__ import annotations

import math
import os
from typing import Iterator, Sequence

import torch

from ltsearch.errors import LTSearchError

from .augment import AUGMENTS, crop_flip, draw_crop_flip, epoch_seed, random_crop_flip  # noqa: F401
from .base import FileSplit, TensorSplit


def make_loader(split, *, train: bool, batch_size: int, device, seed: int, mean: Sequence[float],
                std: Sequence[float], image_size: int | None = None, num_workers: int | None = None,
                drop_last: bool = False, augment: bool = True):
    """A loader over ``split`` (TensorSplit or FileSplit); ``train=False``: fixed order, no augmentation.

    A training loader applies ``split.augment`` (the dataset's ``dataset.augment`` recipe) unless
    ``augment`` is False."""
    if batch_size < 1:
        raise LTSearchError(f"batch_size = {batch_size} is invalid; use batch_size >= 1")
    if isinstance(split, TensorSplit):
        return TensorLoader(split, train=train, batch_size=batch_size, device=device, seed=seed,
                            mean=mean, std=std, drop_last=drop_last, augment=augment)
    if isinstance(split, FileSplit):
        return FileLoader(split, train=train, batch_size=batch_size, device=device, seed=seed, mean=mean,
                          std=std, image_size=image_size or 224, num_workers=num_workers,
                          drop_last=drop_last, augment=augment)
    raise TypeError(f"make_loader: expected a TensorSplit or FileSplit, got {type(split).__name__}")


class _EpochLoader:
    train: bool
    epoch: int = 0

    def set_epoch(self, epoch: int) -> None:
        """Select epoch ``epoch``'s shuffle and augmentation stream."""
        self.epoch = int(epoch)


class TensorLoader(_EpochLoader):
    """Device-resident loader over a :class:`TensorSplit` (no DataLoader, no per-sample Python)."""

    def __init__(self, split: TensorSplit, *, train: bool, batch_size: int, device, seed: int,
                 mean: Sequence[float], std: Sequence[float], drop_last: bool = False, augment: bool = True):
        self.device = torch.device(device)
        self.images = split.images.to(self.device)  # uint8, moved once
        self.labels = split.labels.to(self.device, torch.int64)
        self.train, self.augment = train, augment and train and split.augment != "none"
        self.batch_size, self.seed, self.drop_last = batch_size, seed, drop_last
        std_t = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        mean_t = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.scale = 1.0 / (255.0 * std_t)
        self.shift = -mean_t / std_t
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift, x.float(), self.scale)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n, bs = len(self.labels), self.batch_size
        perm = offsets = flips = None
        if self.train:
            g = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
            perm = torch.randperm(n, generator=g).to(self.device)
            if self.augment:
                offsets, flips = (t.to(self.device) for t in draw_crop_flip(n, g))
        for b in range(len(self)):
            sl = slice(b * bs, min(n, (b + 1) * bs))
            if perm is None:
                x, y = self.images[sl], self.labels[sl]
            else:
                idx = perm[sl]
                x, y = self.images[idx], self.labels[idx]
                if offsets is not None:
                    x = crop_flip(x, offsets[sl], flips[sl])
            yield self.normalize(x), y
        if self.train:
            self.epoch += 1


class EpochSampler(torch.utils.data.Sampler):
    """Yields ``(index, epoch)``: a seeded permutation per epoch (or 0..n-1), tagged for augmentation seeds."""

    def __init__(self, n: int, seed: int, shuffle: bool):
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        if self.shuffle:
            g = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
            order = torch.randperm(self.n, generator=g).tolist()
        else:
            order = range(self.n)
        return iter([(i, self.epoch) for i in order])


class FileDataset(torch.utils.data.Dataset):
    """Decodes ``paths[i]`` with PIL; the transform's torch RNG is seeded from (seed, epoch, i)."""

    def __init__(self, split: FileSplit, transform, seed: int):
        self.paths, self.labels, self.transform, self.seed = split.paths, split.labels, transform, seed

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key):
        from PIL import Image

        index, epoch = key if isinstance(key, tuple) else (key, 0)
        path = self.paths[index]
        try:
            with Image.open(path) as im:
                img = im.convert("RGB")
        except Exception as err:
            text = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise LTSearchError(f"{path}: cannot decode image ({text}); replace or delete the file") from None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(epoch_seed(self.seed, epoch) ^ index)
            x = self.transform(img)
        return x, self.labels[index]


def file_transforms(train: bool, image_size: int, mean, std, augment: str = "rrc-flip-jitter"):
    """Train: the ``augment`` recipe (:data:`~ltsearch.data.augment.AUGMENTS`); eval (and training
    without augmentation): Resize(size*256/224) + CenterCrop. Both end with ToTensor + Normalize."""
    from torchvision import transforms as T

    tail = [T.ToTensor(), T.Normalize(mean, std)]
    if train:
        return T.Compose(AUGMENTS.get(augment)(image_size) + tail)
    return T.Compose([T.Resize(int(image_size * 256 / 224)), T.CenterCrop(image_size)] + tail)


class FileLoader(_EpochLoader):
    """DataLoader over a :class:`FileSplit` (workers default ``min(8, cpu count)``)."""

    def __init__(self, split: FileSplit, *, train: bool, batch_size: int, device, seed: int, mean, std,
                 image_size: int = 224, num_workers: int | None = None, drop_last: bool = False,
                 augment: bool = True):
        self.device = torch.device(device)
        self.train, self.epoch = train, 0
        workers = min(8, os.cpu_count() or 1) if num_workers is None else num_workers
        recipe = split.augment if train and augment else "none"  # none: the eval resize + centre crop
        dataset = FileDataset(split, file_transforms(recipe != "none", image_size, mean, std, recipe), seed)
        self.sampler = EpochSampler(len(split), seed, shuffle=train)
        self.loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch_size, sampler=self.sampler, num_workers=workers,
            pin_memory=self.device.type == "cuda", persistent_workers=workers > 0, drop_last=drop_last,
        )

    def __len__(self) -> int:
        return len(self.loader)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = self.sampler.epoch = int(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.sampler.epoch = self.epoch
        try:
            for x, y in self.loader:
                yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        except LTSearchError as err:  # from a worker: keep the original one-line message
            lines = [ln for ln in str(err).splitlines() if "LTSearchError: " in ln]
            if lines:
                raise LTSearchError(lines[-1].split("LTSearchError: ", 1)[1]) from None
            raise
        if self.train:
            self.set_epoch(self.epoch + 1)

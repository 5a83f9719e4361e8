"""Training augmentations: the named recipes of the papers (``dataset.augment``) and the
whole-batch tensor version of pad-4 crop + flip (airbench style).

Recipes (``AUGMENTS``: name -> ``(image_size) -> [torchvision transforms]`` for image files):

* ``pad-crop-flip``: pad 4, random crop, flip (CIFAR-LT in every paper; on tensors: ``crop_flip``),
* ``resize-crop-flip``: shorter side to 256 (at 224), random 224 crop, flip (KPS Sec. 4.2.2),
* ``rrc-flip``: RandomResizedCrop + flip (LORT on iNaturalist),
* ``rrc-flip-jitter``: RandomResizedCrop + flip + ColorJitter(0.4, 0.4, 0.4) (LORT on ImageNet-LT),
* ``none``.

``auto`` means the data's usual recipe: ``pad-crop-flip`` for tensor datasets, ``rrc-flip-jitter``
for image files. Tensor datasets (CIFAR, digits) take ``pad-crop-flip`` or ``none``.
"""

from __future__ import annotations

import hashlib

import torch

from ltsearch.errors import LTSearchError
from ltsearch.registry import Registry

PAD = 4
AUTO = {"tensor": "pad-crop-flip", "file": "rrc-flip-jitter"}
TENSOR_AUGMENTS = ("pad-crop-flip", "none")
AUGMENTS: Registry = Registry("augmentation")


@AUGMENTS.register("pad-crop-flip")
def pad_crop_flip(image_size: int) -> list:
    from torchvision import transforms as T
    return [T.RandomCrop(image_size, padding=PAD), T.RandomHorizontalFlip()]


@AUGMENTS.register("resize-crop-flip")
def resize_crop_flip(image_size: int) -> list:
    from torchvision import transforms as T
    return [T.Resize(round(image_size * 256 / 224)), T.RandomCrop(image_size), T.RandomHorizontalFlip()]


@AUGMENTS.register("rrc-flip")
def rrc_flip(image_size: int) -> list:
    from torchvision import transforms as T
    return [T.RandomResizedCrop(image_size), T.RandomHorizontalFlip()]


@AUGMENTS.register("rrc-flip-jitter")
def rrc_flip_jitter(image_size: int) -> list:
    from torchvision import transforms as T
    return [T.RandomResizedCrop(image_size), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4)]


@AUGMENTS.register("none")
def no_augment(image_size: int) -> list:
    return []


def resolve_augment(name: str, kind: str, dataset: str) -> str:
    """``name`` checked for a ``kind`` ("tensor" | "file") dataset, with ``auto`` resolved."""
    if name == "auto":
        return AUTO[kind]
    allowed = TENSOR_AUGMENTS if kind == "tensor" else tuple(AUGMENTS.names())
    if name not in allowed:
        held = "held as tensors" if kind == "tensor" else "image files"
        raise LTSearchError(f"dataset.augment = {name!r} is invalid for {dataset} ({held}); "
                            f"use auto or one of: {', '.join(allowed)}")
    return name


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed that is a fixed function of (seed, epoch)."""
    digest = hashlib.sha256(f"ltsearch:{seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def draw_crop_flip(n: int, generator: torch.Generator, pad: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample crop offsets int64 [n, 2] in [0, 2*pad] and flips bool [n] (on the generator's device)."""
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator, device=generator.device)
    flips = torch.rand(n, generator=generator, device=generator.device) < 0.5
    return offsets, flips


def crop_flip(x: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor, pad: int = PAD) -> torch.Tensor:
    """Crop each ``x[b]`` (after zero padding by ``pad``) at ``offsets[b] = (dy, dx)``; flip where ``flips``.

    ``x`` is [B, C, H, W] of any dtype; offset (pad, pad) with no flip returns ``x`` unchanged.
    """
    b, c, h, w = x.shape
    offsets = offsets.to(x.device)
    flips = flips.to(x.device)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = offsets[:, 0, None] + torch.arange(h, device=x.device)  # [B, H]
    cols = offsets[:, 1, None] + torch.arange(w, device=x.device)  # [B, W]
    cols = torch.where(flips[:, None], cols.flip(1), cols)  # flipping = reading columns backwards
    out = padded.gather(2, rows[:, None, :, None].expand(b, c, h, w + 2 * pad))
    return out.gather(3, cols[:, None, None, :].expand(b, c, h, w))


def random_crop_flip(x: torch.Tensor, generator: torch.Generator, pad: int = PAD):
    """Random pad-``pad`` crop + flip of a whole batch: returns ``(x_aug, offsets, flips)``."""
    offsets, flips = draw_crop_flip(x.shape[0], generator, pad)
    return crop_flip(x, offsets, flips, pad), offsets, flips

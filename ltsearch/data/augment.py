"""Whole-batch tensor augmentation (airbench style): pad-4 random crop + horizontal flip.

Matches torchvision ``RandomCrop(32, padding=4)`` (zero padding) + ``RandomHorizontalFlip()``
without a per-sample Python loop.
"""

from __future__ import annotations

import hashlib

import torch

PAD = 4


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

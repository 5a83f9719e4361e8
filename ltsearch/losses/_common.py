"""Shared torch helpers of the losses: class-count validation and logit shape checks
(the hyperparameter range check, ``check_range``, is plain Python in :mod:`ltsearch.checks`)."""

from __future__ import annotations

import math
from typing import Sequence

import torch

from ltsearch.errors import LTSearchError


def as_counts(class_counts, what: str = "class_counts") -> torch.Tensor:
    """Validate training class counts (any order) and return them as a float64 1-D tensor."""
    if class_counts is None:
        raise LTSearchError(f"{what}: missing; pass the training-set count of every class")
    try:
        t = torch.as_tensor(
            class_counts.tolist() if hasattr(class_counts, "tolist") else list(class_counts),
            dtype=torch.float64,
        )
    except (TypeError, ValueError) as e:
        raise LTSearchError(f"{what}: not a list of numbers ({e})") from None
    if t.ndim != 1 or t.numel() == 0:
        raise LTSearchError(f"{what}: empty or not 1-D; pass one positive count per class")
    if not torch.isfinite(t).all() or (t <= 0).any():
        bad = [i for i, v in enumerate(t.tolist()) if not (math.isfinite(v) and v > 0)]
        raise LTSearchError(
            f"{what}: class(es) {bad[:5]} have a zero, negative or non-finite count; every count must be > 0"
        )
    return t


def check_logits(logits: torch.Tensor, target: torch.Tensor, num_classes: int, who: str) -> None:
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        raise ValueError(f"{who}: expected logits of shape [B, {num_classes}], got {tuple(logits.shape)}")
    if target.shape != logits.shape[:1]:
        raise ValueError(f"{who}: target shape {tuple(target.shape)} does not match batch {logits.shape[0]}")


__all__: Sequence[str] = ["as_counts", "check_logits"]

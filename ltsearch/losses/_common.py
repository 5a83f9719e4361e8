"""Shared helpers: class-count validation and hyperparameter checks."""

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


def check_range(name: str, value, lo=None, hi=None, lo_open=False, hi_open=False) -> float:
    """Raise LTSearchError unless lo (<|<=) value (<|<=) hi; return float(value)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LTSearchError(f"{name}: {value!r} is not a number") from None
    ok = math.isfinite(v)
    if ok and lo is not None:
        ok = v > lo if lo_open else v >= lo
    if ok and hi is not None:
        ok = v < hi if hi_open else v <= hi
    if not ok:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        if lo is None:
            left = "("
        if hi is None:
            right = ")"
        raise LTSearchError(f"{name}: {value!r} is outside the valid range {left}{lo_s}, {hi_s}{right}")
    return v


def check_logits(logits: torch.Tensor, target: torch.Tensor, num_classes: int, who: str) -> None:
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        raise ValueError(f"{who}: expected logits of shape [B, {num_classes}], got {tuple(logits.shape)}")
    if target.shape != logits.shape[:1]:
        raise ValueError(f"{who}: target shape {tuple(target.shape)} does not match batch {logits.shape[0]}")


__all__: Sequence[str] = ["as_counts", "check_range", "check_logits"]

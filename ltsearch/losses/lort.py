"""LORT (logits retargeting) stage-2 loss -- papers/lort-logits-retargeting.txt eq. 13, METHODS.md section 2."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ltsearch.checks import check_range
from ltsearch.errors import LTSearchError
from ltsearch.losses._common import check_logits
from ltsearch.losses.defaults import LORT_DELTA


class LORTLoss(nn.Module):
    """CE against the retargeted soft label of eq. 13:

        ytilde_i = 1 - delta + delta/K  if i == y  else  delta/K,   L = -sum_i ytilde_i log softmax(z)_i,

    which is exactly ``F.cross_entropy(z, y, label_smoothing=delta)`` (the class is the named method).
    delta in [0, 1): 0.98 for CIFAR-100-LT, 0.99 for ImageNet-LT / iNaturalist 2018.
    """

    def __init__(self, num_classes: int, delta: float = LORT_DELTA):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise LTSearchError(f"num_classes: {num_classes!r} must be a positive integer")
        self.num_classes = num_classes
        self.delta = check_range("delta", delta, lo=0.0, hi=1.0, hi_open=True)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_logits(logits, target, self.num_classes, "LORTLoss")
        return F.cross_entropy(logits.float(), target, label_smoothing=self.delta)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, delta={self.delta}"


__all__ = ["LORTLoss"]

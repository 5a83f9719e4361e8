"""Classifier heads: a biased linear layer and a bias-free cosine layer.

Both keep the class weights in ``.weight`` with shape ``[C, D]`` so that weight-space
regularisers (LWR) and weight-norm diagnostics treat them alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ltsearch.models.registry import HEADS


def fp32(f: torch.Tensor):
    """Autocast off for the head (the backbone alone runs in bf16): ``(f.float(), context)``."""
    return f.float(), torch.autocast(device_type=f.device.type, enabled=False)


@HEADS.register("linear")
class LinearHead(nn.Linear):
    """``z = W f + b``: logits ``[B, C]`` from features ``[B, D]`` (PyTorch's default init), in fp32
    even under autocast."""

    kind = "linear"

    def __init__(self, in_features: int, num_classes: int):
        super().__init__(in_features, num_classes, bias=True)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        f, ctx = fp32(f)
        with ctx:
            return super().forward(f)


@HEADS.register("cosine")
class CosineHead(nn.Module):
    """``cos_j = <f/|f|, w_j/|w_j|>``: cosine scores in [-1, 1] (up to float rounding), no bias.

    Norms are floored at ``eps`` (``F.normalize``), so a zero feature gives scores of 0
    rather than NaN. Rows of ``.weight`` start as uniform random unit vectors, as in the
    ``NormedLinear`` of LDAM-DRW. No scale is applied: losses (KPS, LDAM) own their scale.
    """

    kind = "cosine"

    def __init__(self, in_features: int, num_classes: int, eps: float = 1e-8):
        super().__init__()
        self.in_features, self.out_features, self.eps = in_features, num_classes, eps
        self.weight = nn.Parameter(torch.empty(num_classes, in_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0)
            self.weight.div_(self.weight.norm(dim=1, keepdim=True).clamp_min(self.eps))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        f, ctx = fp32(f)
        with ctx:  # fp32 even under autocast: bf16 moves cosines by up to 2e-3
            f = F.normalize(f, dim=1, eps=self.eps)
            w = F.normalize(self.weight, dim=1, eps=self.eps)
            return f @ w.t()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"

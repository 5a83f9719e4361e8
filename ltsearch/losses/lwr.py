"""LWR, logit weight repulsion -- papers/lwr-logit-weight-repulsion.txt Sec. 3, METHODS.md section 3."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ltsearch.checks import check_range
from ltsearch.errors import LTSearchError
from ltsearch.losses.defaults import LWR_PROJECTION, LWR_TAU, LWR_THETA


class LWRRegularizer(nn.Module):
    """R_LWR on the classifier weights W [C, D] (eqs. 5-6 with the temperature of Sec. 3.3):

        wbar_i = g(w_i)/|g(w_i)|,  c = wbar wbar^T,  a_ij = c_ij/tau if c_ij > theta else 0
        (the diagonal always passes),  R = -sum_i log softmax(a_i)_i   (sum over classes).

    g is the optional trainable projection of Sec. 3.3: Linear(D, D) -> ReLU -> Linear(D, D);
    its parameters belong to this module, so pass ``regularizer.parameters()`` to the optimiser.
    Pairs below theta contribute exp(0) to the denominator and no gradient.  One C x C matmul.
    """

    def __init__(self, dim: int, theta: float = LWR_THETA, tau: float = LWR_TAU,
                 projection: bool = LWR_PROJECTION):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise LTSearchError(f"dim: {dim!r} must be a positive integer (the classifier's feature width)")
        self.dim = dim
        self.theta = check_range("theta", theta, lo=-1.0, hi=1.0)
        self.tau = check_range("tau", tau, lo=0.0, lo_open=True)
        self.projection = bool(projection)
        self.proj = (nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=False), nn.Linear(dim, dim))
                     if self.projection else None)

    def similarity(self, weight: torch.Tensor) -> torch.Tensor:
        """c = wbar wbar^T, [C, C]."""
        if weight.ndim != 2 or weight.shape[1] != self.dim:
            raise ValueError(f"LWRRegularizer: expected weight [C, {self.dim}], got {tuple(weight.shape)}")
        w = weight.float()
        if self.proj is not None:
            w = self.proj(w)
        wbar = F.normalize(w, dim=1, eps=1e-12)
        return wbar @ wbar.t()

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        c = self.similarity(weight)
        eye = torch.eye(c.shape[0], dtype=torch.bool, device=c.device)
        keep = (c > self.theta) & ~eye                                  # eq. 6 (off-diagonal)
        # a_ii = c_ii/tau = 1/tau exactly (unit vectors), the row maximum; so
        # -log softmax(a_i)_i = log(1 + sum_{j != i} exp(a_ij - 1/tau)), with a_ij = 0 below theta.
        # log1p keeps float32 precision, and the constant diagonal carries no round-off gradient.
        d = torch.where(keep, (c - 1.0) / self.tau, torch.full_like(c, -1.0 / self.tau))
        e = torch.exp(d).masked_fill(eye, 0.0)
        return torch.log1p(e.sum(dim=1)).sum()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, theta={self.theta}, tau={self.tau}, projection={self.projection}"


__all__ = ["LWRRegularizer"]

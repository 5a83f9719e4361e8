"""Baseline losses the papers compare against (METHODS.md section 4).

CE, focal (Lin et al.), LDAM (+DRW, Cao et al.), Balanced Softmax (Ren et al.),
logit adjustment (Menon et al.), class-balanced loss (Cui et al.).
Per-class weights: CE and LDAM follow ``F.cross_entropy(weight=w)`` (mean normalised by the
sum of the batch's w_y, as in the LDAM-DRW code); focal and class-balanced losses take the
plain batch mean of w_y * loss_y (Cui et al. eq. for CB(p, y)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ltsearch.checks import check_range
from ltsearch.errors import LTSearchError
from ltsearch.losses._common import as_counts, check_logits
from ltsearch.losses.defaults import CB_LOSSES, EFFECTIVE_BETA, FOCAL_GAMMA, LA_TAU, LDAM_MAX_M, LDAM_S


def drw_weights(class_counts, beta: float = EFFECTIVE_BETA) -> torch.Tensor:
    """Effective-number class weights (1 - beta)/(1 - beta^n_j), normalised to sum to C (float32).

    As in the LDAM-DRW code (deferred re-weighting) and Cui et al. (class-balanced loss).
    """
    n = as_counts(class_counts)
    beta = check_range("beta", beta, lo=0.0, hi=1.0, hi_open=True)
    w = (1.0 - beta) / (1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), n))
    return (w / w.sum() * n.numel()).to(torch.float32)


class _Weighted(nn.Module):
    """Loss with an optional per-class weight buffer and a deferred re-weighting (DRW) switch."""

    def _init_weights(self, class_counts, drw_beta: float = EFFECTIVE_BETA) -> None:
        # non-persistent: the method hook re-applies DRW, and a None buffer would break load_state_dict
        self.register_buffer("weight", None, persistent=False)
        self._drw_active = False
        if class_counts is not None:
            n = as_counts(class_counts)
            self.num_classes = int(n.numel())
            self.register_buffer("drw_w", drw_weights(n, drw_beta))
        else:
            self.num_classes = None
            self.register_buffer("drw_w", None)

    def set_weight(self, weight) -> None:
        """Set (tensor/list of C floats) or clear (None) the per-class weights."""
        if weight is None:
            self.weight = None
            return
        w = torch.as_tensor(weight, dtype=torch.float32).flatten()
        if self.num_classes is not None and w.numel() != self.num_classes:
            raise LTSearchError(f"weight: {w.numel()} values given, need one per class ({self.num_classes})")
        if not torch.isfinite(w).all() or (w < 0).any():
            raise LTSearchError("weight: class weights must be finite and >= 0")
        self.weight = w.to(self.drw_w.device) if self.drw_w is not None else w

    @property
    def drw_active(self) -> bool:
        return self._drw_active

    @drw_active.setter
    def drw_active(self, on: bool) -> None:
        """DRW: switching on sets weight = drw_weights(class_counts, drw_beta); off clears it."""
        if on and self.drw_w is None:
            raise LTSearchError("drw: needs class_counts; build the loss with the training class counts")
        self._drw_active = bool(on)
        self.weight = self.drw_w.clone() if on else None

    def _w(self, logits):
        return None if self.weight is None else self.weight.to(logits.device)

    def _check(self, logits, target, who):
        if self.num_classes is not None:
            check_logits(logits, target, self.num_classes, who)


class CrossEntropyLoss(_Weighted):
    """Plain softmax cross-entropy (optionally class-weighted / DRW)."""

    def __init__(self, class_counts=None, drw_beta: float = EFFECTIVE_BETA):
        super().__init__()
        self._init_weights(class_counts, drw_beta)

    def forward(self, logits, target):
        self._check(logits, target, "CrossEntropyLoss")
        return F.cross_entropy(logits.float(), target, weight=self._w(logits))


class FocalLoss(_Weighted):
    """Softmax focal loss: mean_b w_y (1 - p_y)^gamma (-log p_y); gamma = 0 gives CE."""

    def __init__(self, class_counts=None, gamma: float = FOCAL_GAMMA, drw_beta: float = EFFECTIVE_BETA):
        super().__init__()
        self.gamma = check_range("gamma", gamma, lo=0.0)
        self._init_weights(class_counts, drw_beta)

    def forward(self, logits, target):
        self._check(logits, target, "FocalLoss")
        logp_y = F.log_softmax(logits.float(), dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -logp_y
        if self.gamma != 0.0:
            loss = (1.0 - logp_y.exp()).clamp_min(0.0) ** self.gamma * loss
        if self.weight is not None:
            loss = loss * self._w(logits)[target]
        return loss.mean()


class LDAMLoss(_Weighted):
    """LDAM (Cao et al.): CE(s * (z - m_y [j == y]), y, weight), m_j = max_m n_j^(-1/4) / max_k n_k^(-1/4).

    Input: cosine scores (normed classifier), as in the LDAM code.  DRW: ``drw_active = True``
    (or ``set_weight``) from 80 % of the run.
    """

    def __init__(self, class_counts, max_m: float = LDAM_MAX_M, s: float = LDAM_S,
                 drw_beta: float = EFFECTIVE_BETA):
        super().__init__()
        n = as_counts(class_counts)
        self.max_m = check_range("max_m", max_m, lo=0.0)
        self.s = check_range("s", s, lo=0.0, lo_open=True)
        m = n.pow(-0.25)
        self.register_buffer("m_list", (m * (self.max_m / m.max())).to(torch.float32))
        self._init_weights(n, drw_beta)

    def forward(self, logits, target):
        self._check(logits, target, "LDAMLoss")
        x = logits.float()
        margin = F.one_hot(target, self.num_classes).to(x.dtype) * self.m_list[target].unsqueeze(1)
        return F.cross_entropy(self.s * (x - margin), target, weight=self._w(logits))


class BalancedSoftmaxLoss(nn.Module):
    """Balanced Softmax (Ren et al.): CE(z_j + log n_j, y)."""

    def __init__(self, class_counts):
        super().__init__()
        n = as_counts(class_counts)
        self.num_classes = int(n.numel())
        self.register_buffer("log_prior", torch.log(n).to(torch.float32))

    def forward(self, logits, target):
        check_logits(logits, target, self.num_classes, "BalancedSoftmaxLoss")
        return F.cross_entropy(logits.float() + self.log_prior, target)


class LogitAdjustedLoss(nn.Module):
    """Logit-adjusted loss (Menon et al.): CE(z_j + tau log pi_j, y), pi_j = n_j / sum n."""

    def __init__(self, class_counts, tau: float = LA_TAU):
        super().__init__()
        n = as_counts(class_counts)
        self.tau = check_range("tau", tau, lo=0.0)
        self.num_classes = int(n.numel())
        self.register_buffer("adjust", (self.tau * torch.log(n / n.sum())).to(torch.float32))

    def forward(self, logits, target):
        check_logits(logits, target, self.num_classes, "LogitAdjustedLoss")
        return F.cross_entropy(logits.float() + self.adjust, target)


class ClassBalancedLoss(nn.Module):
    """Class-balanced loss (Cui et al.): mean_b w_y * L(z, y), w = drw_weights(counts, beta) (sum C).

    ``loss="softmax"``: L = CE;  ``loss="focal"``: L = (1 - p_y)^gamma CE, a softmax focal loss.
    Neither equals a reference code exactly: Cui et al.'s own focal variant is sigmoid-based, and
    the LDAM-DRW code's CB-Focal computes p = exp(-w_y CE) from the *weighted* CE (w_y (1 - p)^gamma
    CE with that p), which differs from (1 - p_y)^gamma whenever w_y != 1.
    """

    LOSSES = CB_LOSSES

    def __init__(self, class_counts, beta: float = EFFECTIVE_BETA, loss: str = "softmax",
                 gamma: float = FOCAL_GAMMA):
        super().__init__()
        if loss not in self.LOSSES:
            raise LTSearchError(f"loss: {loss!r} is not supported; choose one of: {', '.join(self.LOSSES)}")
        n = as_counts(class_counts)
        self.beta = check_range("beta", beta, lo=0.0, hi=1.0, hi_open=True)
        self.gamma = check_range("gamma", gamma, lo=0.0)
        self.loss = loss
        self.num_classes = int(n.numel())
        self.register_buffer("weight", drw_weights(n, self.beta))

    def forward(self, logits, target):
        check_logits(logits, target, self.num_classes, "ClassBalancedLoss")
        logp_y = F.log_softmax(logits.float(), dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -logp_y
        if self.loss == "focal" and self.gamma != 0.0:
            loss = (1.0 - logp_y.exp()).clamp_min(0.0) ** self.gamma * loss
        return (self.weight[target] * loss).mean()


__all__ = ["CrossEntropyLoss", "FocalLoss", "LDAMLoss", "BalancedSoftmaxLoss",
           "LogitAdjustedLoss", "ClassBalancedLoss", "drw_weights"]

"""KPS loss with gradient adjustment (GA) -- papers/kps-loss-tpami.txt, METHODS.md section 1."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ltsearch.checks import check_range
from ltsearch.errors import LTSearchError
from ltsearch.losses._common import as_counts, check_logits
from ltsearch.losses.defaults import GA_MODES, M_MAX, MARGIN_MODES, N_BASE, S_BASE

ROW_SCALE_MAX = 50.0  # authors' code: clamp(s_base * m'_y, s_base, 50)


def kps_lists(class_counts, m_max: float = M_MAX, s_base: float = S_BASE, n_base: float = N_BASE,
              margins: str = "paper") -> dict:
    """Class-wise lists of eqs. 26-30, in the input class order (float32 tensors).

    r'_i = log(n_i n_base / min n) (26);  r_i = r'_i / min r' (27), so min r = 1;
    m'_i = max r + 1 - r_i (28, valid for any class order);  m_i = m'_i m_max / max m' (29);
    s_i = s_base m'_i (30).  min r' = log(n_base), hence n_base must be > 1.
    ``margins="code"``: the authors' code, m' = r reversed (``torch.flip(r)``), which equals eq. 28
    only for classes sorted by count with an exponential profile (CIFAR-LT); it feeds eqs. 29 and 30.
    """
    if margins not in MARGIN_MODES:
        raise LTSearchError(f"margins: {margins!r} is not a margin mode; choose one of: {', '.join(MARGIN_MODES)}")
    n = as_counts(class_counts)
    m_max = check_range("m_max", m_max, lo=0.0)
    s_base = check_range("s_base", s_base, lo=0.0, lo_open=True)
    n_base = check_range("n_base", n_base, lo=1.0, lo_open=True)  # log(n_base) = min r' must be > 0
    r_prime = torch.log(n * (n_base / n.min()))            # eq. 26
    r = r_prime / r_prime.min()                            # eq. 27
    m_prime = r.max() + 1.0 - r if margins == "paper" else torch.flip(r, dims=[0])   # eq. 28 / code
    m = m_prime * (m_max / m_prime.max())                  # eq. 29
    s = s_base * m_prime                                   # eq. 30
    f = torch.float32
    return {"r": r.to(f), "m": m.to(f), "m_prime": m_prime.to(f), "s": s.to(f)}


class KPSLoss(nn.Module):
    """KPS loss on cosine scores [B, C] (eq. 15) with gradient adjustment (eq. 25).

    Before GA (``ga_active`` False, or ``ga="off"``), eq. 15:
        zhat_j = r_j cos_j - m_y [j == y],   L = CE(s_base * zhat, y).
    With GA active:
        ``ga="column"`` (paper eq. 25): logit_j = s_j * zhat_j, s_j = s_base m'_j (eq. 30);
        ``ga="row"`` (authors' code): logit = clamp(s_base m'_y, s_base, 50) * zhat (whole row).
    ``margins``: "paper" (eq. 28) or "code" (the authors' flip of r), see :func:`kps_lists`.
    ``ga_active`` is False at construction; the trainer switches it on at epoch I_0.
    All operations are O(B*C) tensor ops, no per-sample loops.
    """

    def __init__(self, class_counts, m_max: float = M_MAX, s_base: float = S_BASE,
                 n_base: float = N_BASE, ga: str = "column", margins: str = "paper"):
        super().__init__()
        if ga not in GA_MODES:
            raise LTSearchError(f"ga: {ga!r} is not a GA mode; choose one of: {', '.join(GA_MODES)}")
        lists = kps_lists(class_counts, m_max=m_max, s_base=s_base, n_base=n_base, margins=margins)
        self.m_max, self.s_base, self.n_base = float(m_max), float(s_base), float(n_base)
        self.ga, self.margins = ga, margins
        self.ga_active = False
        self.num_classes = int(lists["r"].numel())
        for k in ("r", "m", "m_prime", "s"):
            self.register_buffer(k, lists[k])
        # row mode: per-class row scale, indexed by the label
        self.register_buffer("row_scale", torch.clamp(self.s_base * lists["m_prime"], self.s_base, ROW_SCALE_MAX))

    def zhat(self, cos: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Modified scores of eq. 20: r_j cos_j - m_y [j == y]."""
        cos = cos.float()
        z = cos * self.r
        onehot = F.one_hot(target, self.num_classes).to(z.dtype)
        return z - onehot * self.m[target].unsqueeze(1)

    def scaled_logits(self, cos: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The logits fed to softmax CE under the current mode."""
        z = self.zhat(cos, target)
        if not self.ga_active or self.ga == "off":
            return self.s_base * z                          # eq. 15
        if self.ga == "column":
            return z * self.s                               # eq. 25, s_j per column
        return z * self.row_scale[target].unsqueeze(1)      # authors' code, per row

    def forward(self, cos: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_logits(cos, target, self.num_classes, "KPSLoss")
        return F.cross_entropy(self.scaled_logits(cos, target), target)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, m_max={self.m_max}, s_base={self.s_base}, "
                f"n_base={self.n_base}, ga={self.ga!r}, margins={self.margins!r}, ga_active={self.ga_active}")


__all__ = ["KPSLoss", "kps_lists", "GA_MODES", "MARGIN_MODES", "M_MAX", "S_BASE", "N_BASE"]

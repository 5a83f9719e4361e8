"""Baselines the papers compare against (METHODS §4): CE, focal, LDAM-DRW, BS, LA, CB."""

from __future__ import annotations

import torch

from ltsearch.methods.base import Criterion, Method, Param
from ltsearch.methods.registry import METHODS


@METHODS.register("ce")
class CE(Method):
    description = "Cross-entropy (softmax) baseline"

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import CrossEntropyLoss
        return Criterion(CrossEntropyLoss(counts))


@METHODS.register("focal")
class Focal(Method):
    description = "Focal loss (Lin et al.)"
    params = {"gamma": Param("gamma", "float", 1.0, 0.0, 10.0, help="focusing parameter")}

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import FocalLoss
        return Criterion(FocalLoss(counts, gamma=p["gamma"]))


@METHODS.register("bs")
class BS(Method):
    description = "Balanced Softmax: CE(z + log n, y)"

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import BalancedSoftmaxLoss
        return Criterion(BalancedSoftmaxLoss(counts))


@METHODS.register("la")
class LA(Method):
    description = "Logit-adjusted loss: CE(z + tau log pi, y)"
    params = {"tau": Param("tau", "float", 1.0, 0.0, 10.0, help="adjustment strength")}

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import LogitAdjustedLoss
        return Criterion(LogitAdjustedLoss(counts, tau=p["tau"]))


@METHODS.register("cb")
class CB(Method):
    description = "Class-balanced loss (effective number of samples)"
    params = {
        "beta": Param("beta", "float", 0.9999, 0.0, 1.0, high_open=True, help="effective-number beta"),
        "loss": Param("loss", "categorical", "softmax", choices=("softmax", "focal")),
        "gamma": Param("gamma", "float", 1.0, 0.0, 10.0, active_when=("loss", ("focal",)),
                       help="focal gamma (loss: focal only)"),
    }

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import ClassBalancedLoss
        return Criterion(ClassBalancedLoss(counts, beta=p["beta"], loss=p["loss"], gamma=p["gamma"]))


class DRWCriterion(Criterion):
    """LDAM with deferred re-weighting: class weights switch on at ``drw_start`` of the run."""

    def __init__(self, loss, weights: torch.Tensor, drw_start: float):
        super().__init__(loss)
        self.register_buffer("drw_weight", weights)
        self.drw_start = drw_start
        self.drw_active = False

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        self.drw_active = epoch >= round(self.drw_start * epochs)
        self.loss.set_weight(self.drw_weight if self.drw_active else None)

    def state(self):
        return {"drw": float(self.drw_active)}


@METHODS.register("ldam-drw")
class LDAMDRW(Method):
    head = "cosine"  # LDAM-DRW's code scores with a normed (cosine) linear layer
    description = "LDAM margins (C / n^(1/4)) with deferred re-weighting"
    params = {
        "max_m": Param("max_m", "float", 0.5, 0.0, 2.0, help="largest margin"),
        "s": Param("s", "float", 30.0, 0.0, 100.0, low_open=True, help="logit scale"),
        "beta": Param("beta", "float", 0.9999, 0.0, 1.0, high_open=True, help="DRW effective-number beta"),
        "drw_start": Param("drw_start", "float", 0.8, 0.0, 1.0, help="DRW start, fraction of the run"),
    }

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import LDAMLoss, drw_weights
        loss = LDAMLoss(counts, max_m=p["max_m"], s=p["s"])
        return DRWCriterion(loss, drw_weights(counts, beta=p["beta"]), p["drw_start"])

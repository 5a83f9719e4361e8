"""Baselines the papers compare against (METHODS §4): CE, focal, LDAM-DRW, BS, LA, CB.

Each ``criterion()`` imports the torch modules (losses, criteria) when a trial builds its stages:
the one lazy boundary of the method registry, which declares its knobs without torch.
"""

from __future__ import annotations

from ltsearch.losses.defaults import CB_LOSSES, EFFECTIVE_BETA, FOCAL_GAMMA, LA_TAU, LDAM_MAX_M, LDAM_S
from ltsearch.methods.base import Method, Param
from ltsearch.methods.registry import METHODS


@METHODS.register("ce")
class CE(Method):
    description = "Cross-entropy (softmax) baseline"

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import CrossEntropyLoss
        from ltsearch.methods.criteria import Criterion

        return Criterion(CrossEntropyLoss(counts))


@METHODS.register("focal")
class Focal(Method):
    description = "Focal loss (Lin et al.)"
    params = {"gamma": Param("gamma", "float", FOCAL_GAMMA, 0.0, 10.0, help="focusing parameter")}

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import FocalLoss
        from ltsearch.methods.criteria import Criterion

        return Criterion(FocalLoss(counts, gamma=p["gamma"]))


@METHODS.register("bs")
class BS(Method):
    description = "Balanced Softmax: CE(z + log n, y)"

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import BalancedSoftmaxLoss
        from ltsearch.methods.criteria import Criterion

        return Criterion(BalancedSoftmaxLoss(counts))


@METHODS.register("la")
class LA(Method):
    description = "Logit-adjusted loss: CE(z + tau log pi, y)"
    params = {"tau": Param("tau", "float", LA_TAU, 0.0, 10.0, help="adjustment strength")}

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import LogitAdjustedLoss
        from ltsearch.methods.criteria import Criterion

        return Criterion(LogitAdjustedLoss(counts, tau=p["tau"]))


@METHODS.register("cb")
class CB(Method):
    description = "Class-balanced loss (effective number of samples)"
    params = {
        "beta": Param("beta", "float", EFFECTIVE_BETA, 0.0, 1.0, high_open=True, help="effective-number beta"),
        "loss": Param("loss", "categorical", "softmax", choices=CB_LOSSES),
        "gamma": Param("gamma", "float", FOCAL_GAMMA, 0.0, 10.0, active_when=("loss", ("focal",)),
                       help="focal gamma (loss: focal only)"),
    }

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import ClassBalancedLoss
        from ltsearch.methods.criteria import Criterion

        return Criterion(ClassBalancedLoss(counts, beta=p["beta"], loss=p["loss"], gamma=p["gamma"]))


@METHODS.register("ldam-drw")
class LDAMDRW(Method):
    head = "cosine"  # LDAM-DRW's code scores with a normed (cosine) linear layer
    description = "LDAM margins (C / n^(1/4)) with deferred re-weighting"
    params = {
        "max_m": Param("max_m", "float", LDAM_MAX_M, 0.0, 2.0, help="largest margin"),
        "s": Param("s", "float", LDAM_S, 0.0, 100.0, low_open=True, help="logit scale"),
        "beta": Param("beta", "float", EFFECTIVE_BETA, 0.0, 1.0, high_open=True, help="DRW effective-number beta"),
        "drw_start": Param("drw_start", "float", 0.8, 0.0, 1.0, help="DRW start, fraction of the run"),
    }

    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import LDAMLoss, drw_weights
        from ltsearch.methods.criteria import DRWCriterion

        loss = LDAMLoss(counts, max_m=p["max_m"], s=p["s"])
        return DRWCriterion(loss, drw_weights(counts, beta=p["beta"]), p["drw_start"])

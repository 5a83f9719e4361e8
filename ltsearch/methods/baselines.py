"""Baselines the papers compare against (METHODS §4): CE, focal, LDAM-DRW, BS, LA, CB."""

from __future__ import annotations

from ltsearch.methods.base import Method, Param
from ltsearch.methods.registry import METHODS


def _simple(name: str, description: str, params: dict, make_loss) -> Method:
    class _M(Method):
        def criterion(self, p, counts, feat_dim):
            from ltsearch.methods.criteria import Criterion
            return Criterion(make_loss(p, counts))

    return METHODS.add(name, _M(name=name, description=description, params=params))


def _ce(p, counts):
    from ltsearch.losses import CrossEntropyLoss
    return CrossEntropyLoss(counts)


def _focal(p, counts):
    from ltsearch.losses import FocalLoss
    return FocalLoss(counts, gamma=p["gamma"])


def _bs(p, counts):
    from ltsearch.losses import BalancedSoftmaxLoss
    return BalancedSoftmaxLoss(counts)


def _la(p, counts):
    from ltsearch.losses import LogitAdjustedLoss
    return LogitAdjustedLoss(counts, tau=p["tau"])


def _cb(p, counts):
    from ltsearch.losses import ClassBalancedLoss
    return ClassBalancedLoss(counts, beta=p["beta"], loss=p["loss"], gamma=p["gamma"])


_simple("ce", "Cross-entropy (softmax) baseline", {}, _ce)
_simple("focal", "Focal loss (Lin et al.)",
        {"gamma": Param("gamma", "float", 1.0, 0.0, 10.0, help="focusing parameter")}, _focal)
_simple("bs", "Balanced Softmax: CE(z + log n, y)", {}, _bs)
_simple("la", "Logit-adjusted loss: CE(z + tau log pi, y)",
        {"tau": Param("tau", "float", 1.0, 0.0, 10.0, help="adjustment strength")}, _la)
_simple("cb", "Class-balanced loss (effective number of samples)", {
    "beta": Param("beta", "float", 0.9999, 0.0, 1.0, high_open=True, help="effective-number beta"),
    "loss": Param("loss", "categorical", "softmax", choices=("softmax", "focal")),
    "gamma": Param("gamma", "float", 1.0, 0.0, 10.0, active_when=("loss", ("focal",)),
                   help="focal gamma (loss: focal only)"),
}, _cb)


class LDAMDRW(Method):
    def criterion(self, p, counts, feat_dim):
        from ltsearch.losses import LDAMLoss, drw_weights
        from ltsearch.methods.criteria import DRWCriterion
        loss = LDAMLoss(counts, max_m=p["max_m"], s=p["s"])
        return DRWCriterion(loss, drw_weights(counts, beta=p["beta"]), p["drw_start"])


METHODS.add("ldam-drw", LDAMDRW(
    name="ldam-drw", head="cosine",  # LDAM-DRW's code scores with a normed (cosine) linear layer
    description="LDAM margins (C / n^(1/4)) with deferred re-weighting",
    params={
        "max_m": Param("max_m", "float", 0.5, 0.0, 2.0, help="largest margin"),
        "s": Param("s", "float", 30.0, 0.0, 100.0, low_open=True, help="logit scale"),
        "beta": Param("beta", "float", 0.9999, 0.0, 1.0, high_open=True, help="DRW effective-number beta"),
        "drw_start": Param("drw_start", "float", 0.8, 0.0, 1.0, help="DRW start, fraction of the run"),
    }))

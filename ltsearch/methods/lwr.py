"""LWR: Balanced Softmax + lambda(t) * R_LWR on the classifier weights (METHODS §3)."""

from __future__ import annotations

from ltsearch.losses.defaults import LWR_PROJECTION, LWR_TAU, LWR_THETA
from ltsearch.methods.base import Method, Param
from ltsearch.methods.registry import METHODS


@METHODS.register("lwr")
class LWR(Method):
    head = "linear"
    description = "Logit-weight repulsion on top of Balanced Softmax"
    params = {
        "theta": Param("theta", "float", LWR_THETA, -1.0, 1.0, help="repulsion threshold on cosine similarity"),
        "tau": Param("tau", "float", LWR_TAU, 0.0, 10.0, low_open=True, help="temperature"),
        "projection": Param("projection", "bool", LWR_PROJECTION, help="trainable one-hidden-layer projection g"),
        "lambda_schedule": Param("lambda_schedule", "categorical", "quadratic",
                                 choices=("constant", "quadratic", "linear", "cosine", "step"),
                                 help="lambda(t); quadratic (1 - t/T)^2 is the paper's"),
        "lambda_0": Param("lambda_0", "float", 1.0, 0.0, 100.0, help="base weight lambda_0"),
        "lambda_milestone": Param("lambda_milestone", "float", 0.5, 0.0, 1.0, low_open=True, high_open=True,
                                  active_when=("lambda_schedule", ("step",)),
                                  help="step schedule: drop point, fraction of the run"),
        "lambda_gamma": Param("lambda_gamma", "float", 0.1, 0.0, 1.0, active_when=("lambda_schedule", ("step",)),
                              help="step schedule: factor after the drop"),
    }

    def criterion(self, p, counts, feat_dim):
        # the torch modules load here, when a trial builds its stages (the registry stays light)
        from ltsearch.losses import BalancedSoftmaxLoss, LWRRegularizer
        from ltsearch.methods.criteria import LWRCriterion

        reg = LWRRegularizer(feat_dim, theta=p["theta"], tau=p["tau"], projection=p["projection"])
        kw = {"milestone": p["lambda_milestone"], "gamma": p["lambda_gamma"]} if p["lambda_schedule"] == "step" else {}
        return LWRCriterion(BalancedSoftmaxLoss(counts), reg, p["lambda_schedule"], p["lambda_0"], **kw)

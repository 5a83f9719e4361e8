"""Loss functions of ltsearch: pure ``nn.Module``s built from the training class counts.

KPS (kps.py), LORT (lort.py), LWR regularizer (lwr.py) + lambda(t) schedules (schedules.py),
and the baselines (baselines.py).  See METHODS.md for the formulas.
"""

from ltsearch.losses.baselines import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    CrossEntropyLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    drw_weights,
)
from ltsearch.losses.kps import GA_MODES, KPSLoss, kps_lists
from ltsearch.losses.lort import LORTLoss
from ltsearch.losses.lwr import LWRRegularizer
from ltsearch.losses.schedules import LAMBDA_SCHEDULES, lambda_at

__all__ = [
    "KPSLoss",
    "LORTLoss",
    "LWRRegularizer",
    "BalancedSoftmaxLoss",
    "LDAMLoss",
    "FocalLoss",
    "LogitAdjustedLoss",
    "ClassBalancedLoss",
    "CrossEntropyLoss",
    "LAMBDA_SCHEDULES",
    "lambda_at",
    "kps_lists",
    "drw_weights",
    "GA_MODES",
]

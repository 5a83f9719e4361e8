"""Loss functions of ltsearch: pure ``nn.Module``s built from the training class counts.

KPS (kps.py), LORT (lort.py), LWR regularizer (lwr.py) + lambda(t) schedules (schedules.py),
and the baselines (baselines.py); their default hyperparameters in defaults.py (plain Python,
read by the methods' knobs too). See METHODS.md for the formulas.

The loss modules import torch, so their names load on first use (``from ltsearch.losses import
KPSLoss`` works as usual): importing ``ltsearch.losses.defaults`` or ``.schedules`` stays light.
"""

from importlib import import_module

from ltsearch.losses.defaults import GA_MODES, MARGIN_MODES
from ltsearch.losses.schedules import LAMBDA_SCHEDULES, lambda_at

_HOME = {  # name -> the torch module that defines it
    "BalancedSoftmaxLoss": "baselines", "ClassBalancedLoss": "baselines", "CrossEntropyLoss": "baselines",
    "FocalLoss": "baselines", "LDAMLoss": "baselines", "LogitAdjustedLoss": "baselines",
    "drw_weights": "baselines", "KPSLoss": "kps", "kps_lists": "kps", "LORTLoss": "lort",
    "LWRRegularizer": "lwr",
}

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
    "MARGIN_MODES",
]


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f"ltsearch.losses.{_HOME[name]}"), name)
    raise AttributeError(f"module 'ltsearch.losses' has no attribute {name!r}")

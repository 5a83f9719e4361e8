"""Learning-rate schedules of the papers: a registry of pure functions of the epoch.

Each schedule is ``f(epoch, base_lr, epochs, start, milestones, gamma) -> lr`` (``start``: the first
epoch after the warm-up) for the epochs after the warm-up (``lr_at`` applies the warm-up). Milestones are fractions of the run so that a search with
a reduced budget keeps the shape of the paper's schedule. The papers' settings (presets):

* KPS CIFAR-LT (Sec. 4.2.1, Table 2): 5-epoch warm-up, x0.01 at 160 and again at 180 of 200
  (``gamma: 0.01``, the LDAM-DRW code's 1e-3 / 1e-5); the authors' KPS code: ``gamma: 0.1``.
* KPS ImageNet-LT / iNaturalist (Table 2): no warm-up, x0.1 at 120 and 160 of 180.
* LWR: x0.1 at 140 and 170 of 200 (CIFAR), at 60 and 80 of 100 (ImageNet-LT).
* LORT: cosine to 0.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from ltsearch.registry import Registry

LR_SCHEDULES: Registry[Callable[..., float]] = Registry("lr schedule")


@LR_SCHEDULES.register("multistep")
def multistep(epoch: int, base_lr: float, epochs: int, start: int, milestones: Sequence[float],
              gamma: float) -> float:
    """``base_lr * gamma ** k``, k = number of milestones m with ``epoch >= round(m * epochs)``."""
    k = sum(epoch >= round(m * epochs) for m in milestones)
    return base_lr * gamma**k


@LR_SCHEDULES.register("cosine")
def cosine(epoch: int, base_lr: float, epochs: int, start: int, milestones: Sequence[float],
           gamma: float) -> float:
    """``0.5 base_lr (1 + cos(pi p))``, p the progress after the warm-up in [0, 1)."""
    span = max(epochs - start, 1)
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * (epoch - start) / span))


@LR_SCHEDULES.register("constant")
def constant(epoch: int, base_lr: float, epochs: int, start: int, milestones: Sequence[float],
             gamma: float) -> float:
    """``base_lr``."""
    return base_lr


def lr_at(epoch: int, base_lr: float, epochs: int, name: str = "multistep", warmup_epochs: float = 0.0,
          milestones: Sequence[float] = (), gamma: float = 0.1) -> float:
    """Learning rate for 0-based ``epoch`` of a run of ``epochs`` epochs.

    Warm-up (as in the LDAM-DRW / KPS code): ``base_lr * (epoch + 1) / warmup_epochs`` while
    ``epoch < warmup_epochs``, never above ``base_lr`` (a warm-up scaled to a shorter budget is
    fractional: 2.5 epochs warm up at 0.4, 0.8, 1.0 x base); then the registered schedule ``name``.
    """
    if name not in LR_SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of: {', '.join(LR_SCHEDULES.names())}")
    if epoch < warmup_epochs:
        return base_lr * min(1.0, (epoch + 1) / warmup_epochs)
    return LR_SCHEDULES.get(name)(epoch, base_lr, epochs, math.ceil(warmup_epochs), milestones, gamma)

"""Learning-rate schedules of the papers, as pure functions of the epoch (easy to test and resume).

KPS / LDAM-DRW style: 5-epoch linear warm-up, then x0.1 at 80 % and 90 % of the run
(160 and 180 of 200). LORT: cosine to 0. Milestones are fractions of the run so that a
search with a reduced budget keeps the shape of the paper's schedule.
"""

from __future__ import annotations

import math


def lr_at(epoch: int, base_lr: float, epochs: int, name: str = "multistep", warmup_epochs: float = 0.0,
          milestones: list[float] | tuple = (), gamma: float = 0.1) -> float:
    """Learning rate for 0-based ``epoch`` of a run of ``epochs`` epochs.

    Warm-up (as in the LDAM-DRW / KPS code): ``base_lr * (epoch + 1) / warmup_epochs`` while
    ``epoch < warmup_epochs``. Then ``multistep``: ``base_lr * gamma ** k`` with k the number of
    milestones m with ``epoch >= round(m * epochs)``; ``cosine``: ``0.5 base_lr (1 + cos(pi p))``
    with p the progress after warm-up in [0, 1); ``constant``: ``base_lr``.
    """
    if epoch < warmup_epochs:
        return base_lr * (epoch + 1) / warmup_epochs
    if name == "multistep":
        k = sum(epoch >= round(m * epochs) for m in milestones)
        return base_lr * gamma**k
    if name == "cosine":
        start = math.ceil(warmup_epochs)
        span = max(epochs - start, 1)
        return 0.5 * base_lr * (1.0 + math.cos(math.pi * (epoch - start) / span))
    if name == "constant":
        return base_lr
    raise ValueError(f"unknown schedule {name!r}")

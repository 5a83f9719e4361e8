"""The methods' criteria: ``nn.Module``s (loss + epoch hooks) that a stage trains with.

The one torch module of ``ltsearch.methods``: a method's ``criterion()`` / ``stages()`` import it
when a trial builds its stages, so the registry (knobs, ranges, defaults) loads without torch.
"""

from __future__ import annotations

import torch
from torch import nn

from ltsearch.losses import LAMBDA_SCHEDULES


class Criterion(nn.Module):
    """A stage's objective: ``forward(logits, target, model) -> loss`` plus epoch hooks.

    Its own parameters (e.g. LWR's projection MLP) are trained by the stage's optimiser.
    The loss and any regulariser run in fp32 with autocast off, whatever the caller's region
    (only the backbone uses bf16).
    """

    def __call__(self, logits: torch.Tensor, target: torch.Tensor, model: nn.Module) -> torch.Tensor:
        with torch.autocast(device_type=logits.device.type, enabled=False):
            return super().__call__(logits.float(), target, model)

    def __init__(self, loss: nn.Module):
        super().__init__()
        self.loss = loss

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        """Called before each epoch of the stage (0-based ``epoch`` of ``epochs``)."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, model: nn.Module) -> torch.Tensor:
        return self.loss(logits, target)

    def state(self) -> dict[str, float]:
        """Scalars worth logging per epoch (e.g. lambda(t), GA on/off)."""
        return {}


class KPSCriterion(Criterion):
    """KPS loss on cosine scores; GA (eq. 25) switches on at ``ga_start`` of the run."""

    def __init__(self, loss, ga_start: float):
        super().__init__(loss)
        self.ga_start = ga_start

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        self.loss.ga_active = self.loss.ga != "off" and epoch >= round(self.ga_start * epochs)

    def state(self):
        return {"ga_active": float(self.loss.ga_active)}


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


class LWRCriterion(Criterion):
    """L_bal + lambda(t) R_LWR(W); the projection MLP is a submodule, trained with the model."""

    def __init__(self, loss, regularizer, schedule: str, lambda_0: float, **schedule_kw):
        super().__init__(loss)
        self.regularizer = regularizer
        self.schedule = schedule
        self.lambda_0 = lambda_0
        self.schedule_kw = schedule_kw
        self.lam = lambda_0

    def on_epoch_start(self, epoch: int, epochs: int) -> None:
        self.lam = float(LAMBDA_SCHEDULES.get(self.schedule)(epoch, epochs, self.lambda_0, **self.schedule_kw))

    def forward(self, logits, target, model):
        loss = self.loss(logits, target)
        if self.lam == 0.0:
            return loss
        return loss + self.lam * self.regularizer(model.head.weight)

    def state(self):
        return {"lambda": self.lam}


__all__ = ["Criterion", "KPSCriterion", "DRWCriterion", "LWRCriterion"]

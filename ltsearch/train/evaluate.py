"""Evaluation: logits over a split (optionally with flip TTA), then accuracy and shot groups."""

from __future__ import annotations

import torch

from ltsearch.metrics import evaluate_predictions, logit_diagnostics
from ltsearch.train.device import step_begin


@torch.no_grad()
def collect_logits(model, loader, tta_flip: bool = False, autocast_ctx=None, mem_format=None):
    """Logits and labels of a whole split; ``tta_flip`` averages with the flipped image (LORT).
    Each call's output is copied before the next one: under CUDA graphs the next replay overwrites it."""
    was_training = model.training
    model.eval()
    outs, labels = [], []
    for x, y in loader:
        if mem_format is not None:
            x = x.contiguous(memory_format=mem_format)
        with autocast_ctx() if autocast_ctx else torch.autocast("cpu", enabled=False):
            step_begin()
            z = model(x).to(torch.float32, copy=True)
            if tta_flip:
                step_begin()
                z = 0.5 * (z + model(x.flip(-1)).float())
        outs.append(z)
        labels.append(y)
    model.train(was_training)
    return torch.cat(outs), torch.cat(labels)


def split_metrics(logits: torch.Tensor, labels: torch.Tensor, num_classes: int, train_counts) -> dict:
    """acc / many / medium / few / per_class (in %) of a split's logits."""
    preds = logits.argmax(dim=1)
    return evaluate_predictions(preds.cpu(), labels.cpu(), num_classes, train_counts)


def diagnostics(logits: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """LORT's per-class logits magnitude and regularized standard deviation (METHODS §2)."""
    return logit_diagnostics(logits.cpu(), labels.cpu(), num_classes)

"""Models (torch): a backbone (features ``[B, D]``) joined to a linear or cosine head.

>>> from ltsearch.models import build_model
>>> model = build_model("resnet32", num_classes=10, head="cosine")
>>> model.feat_dim, tuple(model.head.weight.shape)
(64, (10, 64))

``MODELS`` maps a name to a factory ``(init) -> nn.Module`` returning a backbone with a
``feat_dim`` attribute; ``HEADS`` maps ``"linear"`` / ``"cosine"`` to a head class
``(feat_dim, num_classes) -> nn.Module`` exposing ``.weight [C, D]``. Both are filled by
``@MODELS.register`` (``backbones.py``, plain Python) / ``@HEADS.register`` (``heads.py``).

Precision: under autocast only the backbone runs in bf16; the heads compute in fp32.
"""

from __future__ import annotations

from typing import Iterator

from torch import nn

from ltsearch.config import MODEL_INITS
from ltsearch.errors import LTSearchError
from ltsearch.models.heads import CosineHead, LinearHead  # registers the heads
from ltsearch.models.registry import HEADS, MODELS

__all__ = ["MODELS", "HEADS", "LTModel", "LinearHead", "CosineHead", "build_model"]


class LTModel(nn.Module):
    """``forward(x) = head(features(x))``; ``features`` returns ``[B, feat_dim]``."""

    def __init__(self, backbone: nn.Module, head: nn.Module, feat_dim: int, name: str = ""):
        super().__init__()
        self.backbone, self.head, self.feat_dim, self.name = backbone, head, feat_dim, name

    @property
    def num_classes(self) -> int:
        return self.head.weight.shape[0]

    def features(self, x):
        return self.backbone(x)

    def forward(self, x):
        return self.head(self.backbone(x))

    def classifier_parameters(self) -> Iterator[nn.Parameter]:
        """The head's parameters (what a stage-2 re-training optimises)."""
        return self.head.parameters()

    def backbone_parameters(self) -> Iterator[nn.Parameter]:
        return self.backbone.parameters()


def build_model(name: str, num_classes: int, head: str = "linear", init: str = "default") -> LTModel:
    """Build ``name``'s backbone with a fresh ``head`` ("linear" | "cosine") for ``num_classes``.

    ``init``: "default" (the architecture's own: torchvision's, or LDAM-DRW's for the CIFAR
    ResNets) or "authors" (the method authors' code where it differs: LORT's resnet34-cifar).
    Unknown names raise ``LTSearchError`` listing the choices. Weights are random
    (no pretrained weights are ever downloaded).
    """
    factory = MODELS.get(name)
    head_cls = HEADS.get(head)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise LTSearchError(f"model '{name}': num_classes must be an integer >= 2, got {num_classes!r}")
    if init not in MODEL_INITS:
        raise LTSearchError(f"model.init = {init!r} is invalid; use one of: {', '.join(MODEL_INITS)}")
    backbone = factory(init)
    feat_dim = int(backbone.feat_dim)
    classifier = head_cls(feat_dim, num_classes)
    if getattr(backbone, "kaiming_head", False) and isinstance(classifier, LinearHead):
        nn.init.kaiming_normal_(classifier.weight)
    return LTModel(backbone, classifier, feat_dim, name=name)

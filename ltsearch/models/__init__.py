"""Models: a backbone (features ``[B, D]``) joined to a linear or cosine head.

>>> from ltsearch.models import build_model
>>> model = build_model("resnet32", num_classes=10, head="cosine")
>>> model.feat_dim, tuple(model.head.weight.shape)
(64, (10, 64))

``MODELS`` (the backbone names, registered in plain Python by ``backbones.py``) loads without
torch, so a config is checked before any heavy import. ``build_model``, ``LTModel``, the heads
and ``HEADS`` (filled by ``heads.py``) are torch: they load on first use (``build.py``).
"""

from importlib import import_module

from ltsearch.models import backbones  # noqa: F401  (registers the backbones)
from ltsearch.models.registry import MODELS

__all__ = ["MODELS", "HEADS", "LTModel", "LinearHead", "CosineHead", "build_model"]


def __getattr__(name: str):
    if name in ("HEADS", "LTModel", "LinearHead", "CosineHead", "build_model"):  # torch
        return getattr(import_module("ltsearch.models.build"), name)
    raise AttributeError(f"module 'ltsearch.models' has no attribute {name!r}")

"""Backbones built from torchvision architectures (never with pretrained weights).

``resnet50`` / ``resnext50``: torchvision's ``resnet50()`` / ``resnext50_32x4d()`` with
``weights=None`` and ``fc`` replaced by ``Identity`` (features [B, 2048]).
``resnet34-cifar``: LORT's CIFAR ResNet-34, torchvision's BasicBlock layers [3, 4, 6, 3]
(widths 64..512) with a CIFAR stem: 3x3 stride-1 first conv and no max-pool
(features [B, 512]).

Init: ``default`` keeps torchvision's (Kaiming-normal fan-out convs, BN weight 1 / bias 0).
``authors`` for ``resnet34-cifar`` is the LORT code's (bilibili/LOS ``models/resnet.py``):
PyTorch's per-layer defaults (Kaiming-uniform a = sqrt(5) convs). For ``resnet50`` /
``resnext50`` the authors' (KPS, LORT, LWR) networks are torchvision's, so ``authors`` = ``default``.
Their registry entries are in ``backbones.py``.
"""

from __future__ import annotations

import torchvision
from torch import nn


def _strip_fc(model: nn.Module) -> nn.Module:
    model.feat_dim = model.fc.in_features
    model.fc = nn.Identity()
    return model


def pytorch_default_init(model: nn.Module) -> nn.Module:
    """Every layer back to PyTorch's own ``reset_parameters()`` init."""
    for m in model.modules():
        if m is not model and hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return model


def resnet50(init: str = "default") -> nn.Module:
    return _strip_fc(torchvision.models.resnet50(weights=None))


def resnext50(init: str = "default") -> nn.Module:
    return _strip_fc(torchvision.models.resnext50_32x4d(weights=None))


def resnet34_cifar(init: str = "default") -> nn.Module:
    model = torchvision.models.resnet34(weights=None)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    if init == "authors":
        pytorch_default_init(model)
    return _strip_fc(model)

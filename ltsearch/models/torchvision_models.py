"""Backbones built from torchvision architectures (never with pretrained weights).

``resnet50`` / ``resnext50``: torchvision's ``resnet50()`` / ``resnext50_32x4d()`` with
``weights=None`` and ``fc`` replaced by ``Identity`` (features [B, 2048]).
``resnet34-cifar``: LORT's CIFAR ResNet-34, torchvision's BasicBlock layers [3, 4, 6, 3]
(widths 64..512) with a CIFAR stem: 3x3 stride-1 first conv and no max-pool
(features [B, 512]).
"""

from __future__ import annotations

from torch import nn


def _strip_fc(model: nn.Module) -> nn.Module:
    model.feat_dim = model.fc.in_features
    model.fc = nn.Identity()
    return model


def resnet50() -> nn.Module:
    import torchvision

    return _strip_fc(torchvision.models.resnet50(weights=None))


def resnext50() -> nn.Module:
    import torchvision

    return _strip_fc(torchvision.models.resnext50_32x4d(weights=None))


def resnet34_cifar() -> nn.Module:
    import torchvision

    model = torchvision.models.resnet34(weights=None)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    return _strip_fc(model)

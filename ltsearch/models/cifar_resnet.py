"""CIFAR ResNets of He et al. (2016, Sec. 4.2) as in LDAM-DRW's ``resnet_cifar``.

Three stages of BasicBlocks with widths 16/32/64 on 32x32 inputs, option-A shortcuts
(identity, subsampled and zero-padded in channels when the shape changes), Kaiming-normal
init of every conv (and of the linear head, see ``kaiming_head``). ``resnet{6n+2}`` has
``n`` blocks per stage: resnet8 (n=1), resnet20 (n=3), resnet32 (n=5, about 0.46M
parameters with a 10-class head); their registry entries are in ``backbones.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _PadShortcut(nn.Module):
    """Option-A shortcut: take every other pixel, zero-pad the channels to ``planes``."""

    def __init__(self, in_planes: int, planes: int):
        super().__init__()
        extra = planes - in_planes
        self.pad = (0, 0, 0, 0, extra // 2, extra - extra // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::2, ::2], self.pad, "constant", 0.0)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual connection (option-A shortcut)."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        changes = stride != 1 or in_planes != planes
        self.shortcut = _PadShortcut(in_planes, planes) if changes else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """Backbone only: ``forward(x [B,3,H,W]) -> features [B, 64]`` (global average pool)."""

    kaiming_head = True  # LDAM-DRW also Kaiming-initialises the final linear layer

    def __init__(self, blocks_per_stage: int, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, in_planes = [], widths[0]
        for i, planes in enumerate(widths):
            for b in range(blocks_per_stage):
                stride = 2 if (i > 0 and b == 0) else 1
                layers.append(BasicBlock(in_planes, planes, stride))
                in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.feat_dim = in_planes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(out, 1), 1)

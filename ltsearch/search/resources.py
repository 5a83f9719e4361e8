"""Default GPU share per trial ("GPU packing"): several small CIFAR trials share one GPU.

A ResNet-32 step on a 32x32 batch of 64-128 uses a few hundred MB and a small fraction of a
modern GPU's compute, so one trial alone leaves the GPU mostly idle; packing four trials per
GPU keeps it busy (on an H100, four ResNet-8 trials train 2.9x the epochs per second of one, each
1.2x slower; eight: 3.5x, 1.28x; bench/RESULTS.md "GPU"). ImageNet-scale models take a whole GPU each.

| model                       | data            | default --gpus-per-trial |
|-----------------------------|-----------------|--------------------------|
| resnet8 / resnet20 / resnet32 | 32x32 (tensors) | 0.25 (4 trials per GPU)  |
| resnet34-cifar              | 32x32           | 0.5                      |
| resnet50 / resnext50        | any             | 1.0                      |
"""

from __future__ import annotations

SMALL_MODELS = {"resnet8": 0.25, "resnet20": 0.25, "resnet32": 0.25, "resnet34-cifar": 0.5}


def default_gpus_per_trial(model: str, gpus_available: float) -> float:
    """The GPU share a trial of ``model`` asks for; 0 when the cluster has no GPU."""
    if gpus_available <= 0:
        return 0.0
    return SMALL_MODELS.get(model, 1.0)

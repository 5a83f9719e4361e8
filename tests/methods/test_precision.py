"""Mixed precision: under autocast only the backbone runs in bf16; the head, the loss and the
regulariser stay fp32 (CPU autocast stands in for CUDA's)."""

from __future__ import annotations

import pytest
import torch

from ltsearch.config import TrialConfig
from ltsearch.methods import get_method
from ltsearch.models import HEADS

COUNTS = [500, 300, 120, 60, 30, 12, 5]


def _loss_and_grads(method: str, head: str, params: dict, autocast: bool):
    torch.manual_seed(0)
    feat_dim = 64
    f = torch.randn(32, feat_dim, requires_grad=True)
    y = torch.randint(0, len(COUNTS), (32,))
    model = torch.nn.Module()
    model.head = HEADS.get(head)(feat_dim, len(COUNTS))
    m = get_method(method)
    criterion = m.criterion(m.resolve(params), COUNTS, feat_dim)
    criterion.on_epoch_start(150, 200)  # GA on, lambda(t) > 0
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else torch.autocast("cpu", enabled=False)
    with ctx:
        loss = criterion(model.head(f), y, model)
    params_ = [f, *model.head.parameters(), *criterion.parameters()]
    grads = torch.autograd.grad(loss, params_)
    return loss.detach(), grads


@pytest.mark.parametrize("method, head, params", [
    ("kps", "cosine", {"ga": "column"}),
    ("kps", "cosine", {"ga": "row"}),
    ("lwr", "linear", {"theta": 0.0}),
])
def test_loss_and_gradients_equal_fp32_under_autocast(method, head, params):
    loss32, grads32 = _loss_and_grads(method, head, params, autocast=False)
    loss16, grads16 = _loss_and_grads(method, head, params, autocast=True)
    assert loss16.dtype == torch.float32
    torch.testing.assert_close(loss16, loss32, atol=1e-5, rtol=1e-5)
    for a, b in zip(grads16, grads32):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_backbone_still_bf16_under_autocast():
    from ltsearch.models import build_model
    model = build_model("resnet8", 10, head="cosine")
    x = torch.randn(2, 3, 32, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.features(x).dtype == torch.bfloat16
        assert model(x).dtype == torch.float32
    assert TrialConfig().amp == "auto"


@pytest.mark.parametrize("model, auto", [("resnet8", False), ("resnet32", False), ("resnet34-cifar", False),
                                         ("resnet50", True), ("resnext50", True)])
def test_auto_precision_is_bf16_for_imagenet_models_only(model, auto):
    """bench/RESULTS.md "GPU": bf16 + channels_last is 2x fp32 for ResNet-50 at 224 px, slower for CIFAR ResNets."""
    from ltsearch.train.device import gpu_speedup
    assert gpu_speedup("auto", model) is auto
    assert gpu_speedup(True, model) is True and gpu_speedup(False, model) is False

"""LORT retargeting loss vs. label smoothing and an explicit soft-target loop."""

import math

import pytest
import torch
import torch.nn.functional as F

from ltsearch.errors import LTSearchError
from ltsearch.losses import LORTLoss


def test_equals_label_smoothing():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(6, 5, generator=g) * 3
    y = torch.tensor([0, 4, 2, 2, 1, 3])
    for delta in (0.98, 0.99, 0.5, 0.1):
        got = LORTLoss(5, delta=delta)(z, y)
        assert torch.allclose(got, F.cross_entropy(z, y, label_smoothing=delta), atol=1e-6)


def test_delta_zero_is_ce():
    z = torch.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 0.3]])
    y = torch.tensor([2, 0])
    assert torch.allclose(LORTLoss(3, delta=0.0)(z, y), F.cross_entropy(z, y), atol=1e-7)


def test_by_hand():
    z = [[2.0, 0.0, -1.0]]
    K, d = 3, 0.98
    lse = math.log(sum(math.exp(v) for v in z[0]))
    ref = -sum(((1 - d + d / K) if i == 0 else d / K) * (z[0][i] - lse) for i in range(K))
    assert float(LORTLoss(K, d)(torch.tensor(z), torch.tensor([0]))) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("delta", [1.0, -0.1, 1.5])
def test_validation(delta):
    with pytest.raises(LTSearchError, match="delta"):
        LORTLoss(10, delta=delta)
    with pytest.raises(LTSearchError, match="num_classes"):
        LORTLoss(0)

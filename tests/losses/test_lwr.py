"""LWR regularizer: hand value, orthogonal gradient (eq. 4), threshold (eq. 6), temperature."""

import math

import pytest
import torch

from ltsearch.errors import LTSearchError
from ltsearch.losses import LWRRegularizer


def lse(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def test_hand_value_3class_2d():
    # w1 at 0 deg, w2 at 30 deg, w3 at 90 deg; lengths differ (normalisation must remove them)
    W = torch.tensor([[2.0, 0.0], [math.cos(math.pi / 6) * 3, 0.5 * 3], [0.0, 0.7]])
    c12, c23 = math.cos(math.pi / 6), 0.5  # c13 = cos 90 deg = 0
    tau, theta = 0.1, 0.4
    # a: diagonal 1/tau, c12 and c23 above theta -> c/tau, c13 below -> 0
    rows = [[10.0, c12 / tau, 0.0], [c12 / tau, 10.0, c23 / tau], [0.0, c23 / tau, 10.0]]
    ref = sum(lse(rows[i]) - rows[i][i] for i in range(3))
    reg = LWRRegularizer(2, theta=theta, tau=tau, projection=False)
    assert float(reg(W)) == pytest.approx(ref, rel=1e-5)
    # theta = 0.6: only c12 passes
    rows = [[10.0, c12 / tau, 0.0], [c12 / tau, 10.0, 0.0], [0.0, 0.0, 10.0]]
    ref = sum(lse(rows[i]) - rows[i][i] for i in range(3))
    assert float(LWRRegularizer(2, theta=0.6, tau=tau, projection=False)(W)) == pytest.approx(ref, rel=1e-5)


def test_tau_scaling():
    W = torch.tensor([[1.0, 0.0], [0.8, 0.6]])  # c12 = 0.8
    for tau in (0.1, 0.5, 2.0):
        a = [[1 / tau, 0.8 / tau], [0.8 / tau, 1 / tau]]
        ref = sum(lse(a[i]) - a[i][i] for i in range(2))
        got = LWRRegularizer(2, theta=0.4, tau=tau, projection=False)(W)
        assert float(got) == pytest.approx(ref, rel=1e-5)


def test_gradient_orthogonal_to_w():
    g = torch.Generator().manual_seed(0)
    W = (torch.randn(6, 4, generator=g) + torch.tensor([3.0, 0, 0, 0])).requires_grad_(True)
    reg = LWRRegularizer(4, theta=-1.0, tau=0.1, projection=False)  # every pair repels
    reg(W).backward()
    dots = (W.grad * W.detach()).sum(1)
    assert W.grad.abs().max() > 1e-3
    assert torch.allclose(dots, torch.zeros(6), atol=1e-5)


def test_below_threshold_no_gradient():
    # all off-diagonal c below theta -> R is a constant, gradient exactly zero
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.1]], requires_grad=True)
    reg = LWRRegularizer(2, theta=0.4, tau=0.1, projection=False)
    R = reg(W)
    R.backward()
    assert float(R.detach()) == pytest.approx(3 * (lse([10.0, 0.0, 0.0]) - 10.0), rel=1e-5)
    assert torch.count_nonzero(W.grad) == 0
    # theta = 1: no repulsion for any configuration of distinct vectors
    W2 = torch.randn(5, 3, requires_grad=True)
    LWRRegularizer(3, theta=1.0, projection=False)(W2).backward()
    assert torch.count_nonzero(W2.grad) == 0


def test_pair_below_threshold_gets_no_pull():
    # w3 is far from both; only the (1,2) pair is above theta -> grad on w3 is exactly 0
    W = torch.tensor([[1.0, 0.0], [0.9, 0.3], [-1.0, 0.0]], requires_grad=True)
    LWRRegularizer(2, theta=0.4, projection=False)(W).backward()
    assert torch.count_nonzero(W.grad[2]) == 0
    assert W.grad[:2].abs().max() > 0


def test_projection_params_trainable():
    reg = LWRRegularizer(8, projection=True)
    params = list(reg.parameters())
    assert len(params) == 4  # two Linear(8, 8) layers with bias
    assert all(p.shape[-1] == 8 for p in params)
    W = torch.randn(10, 8, requires_grad=True)
    reg(W).backward()
    assert W.grad is not None
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
    assert list(LWRRegularizer(8, projection=False).parameters()) == []


@pytest.mark.parametrize("kw, word", [({"theta": 1.5}, "theta"), ({"theta": -1.1}, "theta"),
                                      ({"tau": 0.0}, "tau"), ({"tau": -1}, "tau")])
def test_validation(kw, word):
    with pytest.raises(LTSearchError, match=word):
        LWRRegularizer(4, **kw)
    with pytest.raises(LTSearchError, match="dim"):
        LWRRegularizer(0)


def test_random_against_numpy_loop():
    import numpy as np

    rng = np.random.default_rng(0)
    W = rng.normal(size=(7, 3)) + np.array([1.5, 0.0, 0.0])
    Wb = W / np.linalg.norm(W, axis=1, keepdims=True)
    theta, tau = 0.2, 0.25
    ref = 0.0
    for i in range(7):
        a = []
        for j in range(7):
            c = float(Wb[i] @ Wb[j])
            a.append(c / tau if (i == j or c > theta) else 0.0)
        ref += lse(a) - a[i]
    got = LWRRegularizer(3, theta=theta, tau=tau, projection=False)(torch.tensor(W, dtype=torch.float32))
    assert float(got.detach()) == pytest.approx(ref, rel=1e-5)

"""Baselines vs. explicit formulas: BalSoftmax, LA, LDAM margins, DRW/CB weights, focal."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ltsearch.errors import LTSearchError
from ltsearch.losses import (
    BalancedSoftmaxLoss,
    ClassBalancedLoss,
    CrossEntropyLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    drw_weights,
)

COUNTS = [100, 10, 1]
Z = torch.tensor([[1.0, -0.5, 0.2], [0.1, 0.8, -0.3], [0.4, 0.4, 0.9], [-0.2, 0.3, 0.0]])
Y = torch.tensor([0, 1, 2, 2])


def ce_loop(z, y, w=None, normalise=True):
    tot, den = 0.0, 0.0
    for b in range(len(y)):
        row = [float(v) for v in z[b]]
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        wb = 1.0 if w is None else w[int(y[b])]
        tot += wb * (lse - row[int(y[b])])
        den += wb if normalise else 1.0
    return tot / den


def eff_weights(counts, beta):
    w = [(1 - beta) / (1 - beta ** n) for n in counts]
    return [v / sum(w) * len(counts) for v in w]


def test_drw_weights_by_hand():
    beta = 0.9999
    raw = [(1 - beta) / (1 - beta ** 100), (1 - beta) / (1 - beta ** 10), (1 - beta) / (1 - beta ** 1)]
    expect = [v * 3 / sum(raw) for v in raw]
    got = drw_weights(COUNTS, beta)
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-5)
    assert float(got.sum()) == pytest.approx(3.0, rel=1e-6)
    assert got[2] > got[1] > got[0]
    np.testing.assert_allclose(drw_weights([5, 5], 0.5).numpy(), [1.0, 1.0])


def test_balanced_softmax():
    shifted = Z + torch.log(torch.tensor([100.0, 10.0, 1.0]))
    assert float(BalancedSoftmaxLoss(COUNTS)(Z, Y)) == pytest.approx(ce_loop(shifted, Y), rel=1e-6)


@pytest.mark.parametrize("tau", [1.0, 0.5, 0.0])
def test_logit_adjusted(tau):
    pi = [100 / 111, 10 / 111, 1 / 111]
    shifted = [[float(Z[b, j]) + tau * math.log(pi[j]) for j in range(3)] for b in range(4)]
    got = LogitAdjustedLoss(COUNTS, tau=tau)(Z, Y)
    assert float(got) == pytest.approx(ce_loop(shifted, Y), rel=1e-6)


def test_ldam_margins_and_loss():
    loss = LDAMLoss(COUNTS, max_m=0.5, s=30.0)
    m = [100 ** -0.25, 10 ** -0.25, 1.0]
    m = [v * 0.5 / max(m) for v in m]
    np.testing.assert_allclose(loss.m_list.numpy(), m, rtol=1e-6)
    assert float(loss.m_list.max()) == pytest.approx(0.5)
    cos = Z / 2
    adj = [[30.0 * (float(cos[b, j]) - (m[j] if j == int(Y[b]) else 0.0)) for j in range(3)] for b in range(4)]
    assert float(loss(cos, Y)) == pytest.approx(ce_loop(adj, Y), rel=1e-5)
    # DRW: weighted mean normalised by the batch's weights (F.cross_entropy(weight=...))
    loss.drw_active = True
    w = eff_weights(COUNTS, 0.9999)
    assert float(loss(cos, Y)) == pytest.approx(ce_loop(adj, Y, w), rel=1e-5)
    loss.drw_active = False
    assert loss.weight is None
    loss.set_weight([1.0, 2.0, 3.0])
    assert float(loss(cos, Y)) == pytest.approx(ce_loop(adj, Y, [1.0, 2.0, 3.0]), rel=1e-5)
    with pytest.raises(LTSearchError, match="weight"):
        loss.set_weight([1.0, 2.0])


def test_focal():
    assert torch.allclose(FocalLoss(COUNTS, gamma=0.0)(Z, Y), F.cross_entropy(Z, Y), atol=1e-6)
    gamma = 2.0
    ref = 0.0
    for b in range(4):
        row = [float(v) for v in Z[b]]
        p = math.exp(row[int(Y[b])]) / sum(math.exp(v) for v in row)
        ref += (1 - p) ** gamma * -math.log(p)
    assert float(FocalLoss(COUNTS, gamma=gamma)(Z, Y)) == pytest.approx(ref / 4, rel=1e-5)


def test_ce():
    assert torch.allclose(CrossEntropyLoss()(Z, Y), F.cross_entropy(Z, Y))
    ce = CrossEntropyLoss(COUNTS)
    ce.drw_active = True
    assert float(ce(Z, Y)) == pytest.approx(ce_loop(Z, Y, eff_weights(COUNTS, 0.9999)), rel=1e-5)
    with pytest.raises(LTSearchError, match="class_counts"):
        CrossEntropyLoss().drw_active = True


def test_class_balanced():
    beta = 0.999
    w = eff_weights(COUNTS, beta)
    cb = ClassBalancedLoss(COUNTS, beta=beta)
    np.testing.assert_allclose(cb.weight.numpy(), w, rtol=1e-5)
    assert float(cb(Z, Y)) == pytest.approx(ce_loop(Z, Y, w, normalise=False), rel=1e-5)
    gamma = 1.5
    ref = 0.0
    for b in range(4):
        row = [float(v) for v in Z[b]]
        p = math.exp(row[int(Y[b])]) / sum(math.exp(v) for v in row)
        ref += w[int(Y[b])] * (1 - p) ** gamma * -math.log(p)
    got = ClassBalancedLoss(COUNTS, beta=beta, loss="focal", gamma=gamma)(Z, Y)
    assert float(got) == pytest.approx(ref / 4, rel=1e-5)


def test_buffers_move_with_module():
    for mod in (BalancedSoftmaxLoss(COUNTS), LogitAdjustedLoss(COUNTS), LDAMLoss(COUNTS),
                ClassBalancedLoss(COUNTS)):
        assert len(list(mod.buffers())) >= 1
        mod.to(torch.float64)  # buffers are registered: .to() reaches them
    ld = LDAMLoss(COUNTS)
    sd = ld.state_dict()
    ld2 = LDAMLoss(COUNTS)
    ld2.drw_active = True
    ld2.load_state_dict(sd)  # the DRW weight buffer is not persistent


@pytest.mark.parametrize(
    "ctor, word",
    [(lambda: FocalLoss(COUNTS, gamma=-1), "gamma"),
     (lambda: drw_weights(COUNTS, beta=1.0), "beta"),
     (lambda: drw_weights(COUNTS, beta=-0.1), "beta"),
     (lambda: ClassBalancedLoss(COUNTS, beta=1.0), "beta"),
     (lambda: ClassBalancedLoss(COUNTS, loss="sigmoid"), "loss"),
     (lambda: LDAMLoss(COUNTS, max_m=-0.5), "max_m"),
     (lambda: LDAMLoss(COUNTS, s=0), "s"),
     (lambda: LogitAdjustedLoss(COUNTS, tau=-1), "tau"),
     (lambda: BalancedSoftmaxLoss([3, 0, 1]), "class_counts"),
     (lambda: BalancedSoftmaxLoss([]), "class_counts")],
)
def test_validation(ctor, word):
    with pytest.raises(LTSearchError, match=word):
        ctor()

"""KPS lists (eqs. 26-30) and KPS loss (eqs. 15, 25 and the authors' row variant) vs. hand references."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ltsearch.errors import LTSearchError
from ltsearch.losses import KPSLoss, kps_lists


def ref_lists(counts, m_max, s_base, n_base):
    """Plain-python eqs. 26-30."""
    nmin = min(counts)
    rp = [math.log(n * n_base / nmin) for n in counts]
    r = [v / min(rp) for v in rp]
    mp = [max(r) + 1 - v for v in r]
    m = [v * m_max / max(mp) for v in mp]
    s = [s_base * v for v in mp]
    return r, m, mp, s


def test_lists_by_hand_sorted():
    out = kps_lists([100, 50, 10], m_max=0.5, s_base=15.0, n_base=50.0)
    # by hand: r' = log(500), log(250), log(50)
    r = [math.log(500) / math.log(50), math.log(250) / math.log(50), 1.0]
    mp = [1.0, 1.0 + r[0] - r[1], r[0]]
    m = [v * 0.5 / r[0] for v in mp]
    s = [15.0 * v for v in mp]
    np.testing.assert_allclose(out["r"].numpy(), r, rtol=1e-6)
    np.testing.assert_allclose(out["m_prime"].numpy(), mp, rtol=1e-6)
    np.testing.assert_allclose(out["m"].numpy(), m, rtol=1e-6)
    np.testing.assert_allclose(out["s"].numpy(), s, rtol=1e-6)
    assert float(out["r"].min()) == pytest.approx(1.0)
    assert float(out["m"].max()) == pytest.approx(0.5)
    assert all(v.dtype == torch.float32 for v in out.values())


def test_lists_unsorted_are_permuted():
    counts = [100, 50, 10, 7, 300]
    perm = [3, 0, 4, 2, 1]
    a = kps_lists(counts, 0.3, 10.0, 20.0)
    b = kps_lists([counts[i] for i in perm], 0.3, 10.0, 20.0)
    ref = ref_lists([counts[i] for i in perm], 0.3, 10.0, 20.0)
    for k, rv in zip(("r", "m", "m_prime", "s"), ref):
        np.testing.assert_allclose(b[k].numpy(), a[k].numpy()[perm], rtol=1e-6)
        np.testing.assert_allclose(b[k].numpy(), rv, rtol=1e-6)
    # the tail class (7) gets the largest margin whatever its position
    assert int(torch.argmax(b["m"])) == perm.index(3)
    assert float(b["m"].max()) == pytest.approx(0.3)


def ref_loss(cos, y, counts, m_max, s_base, n_base, mode):
    r, m, mp, s = ref_lists(counts, m_max, s_base, n_base)
    total = 0.0
    B, C = cos.shape
    for b in range(B):
        yb = int(y[b])
        zhat = [r[j] * float(cos[b, j]) - (m[yb] if j == yb else 0.0) for j in range(C)]
        if mode == "off":
            logits = [s_base * z for z in zhat]
        elif mode == "column":
            logits = [s[j] * zhat[j] for j in range(C)]
        else:  # row
            sc = min(max(s_base * mp[yb], s_base), 50.0)
            logits = [sc * z for z in zhat]
        mx = max(logits)
        lse = mx + math.log(sum(math.exp(v - mx) for v in logits))
        total += lse - logits[yb]
    return total / B


COS = torch.tensor([[0.9, -0.2, 0.1], [0.3, 0.5, -0.7], [0.2, 0.4, 0.6]])
Y = torch.tensor([0, 1, 2])
COUNTS = [100, 50, 10]


@pytest.mark.parametrize("ga", ["column", "row", "off"])
def test_loss_modes(ga):
    loss = KPSLoss(COUNTS, m_max=0.5, s_base=15.0, n_base=50.0, ga=ga)
    assert loss.ga_active is False
    pre = ref_loss(COS, Y, COUNTS, 0.5, 15.0, 50.0, "off")
    assert float(loss(COS, Y)) == pytest.approx(pre, rel=1e-5)  # eq. 15 before GA, any mode
    loss.ga_active = True
    got = float(loss(COS, Y))
    assert got == pytest.approx(ref_loss(COS, Y, COUNTS, 0.5, 15.0, 50.0, ga), rel=1e-5)
    if ga != "off":
        assert got != pytest.approx(pre, rel=1e-3)


def test_row_clamp_at_50():
    # s_base * m'_tail > 50 is clamped to 50
    counts = [5000, 5]
    loss = KPSLoss(counts, m_max=0.5, s_base=30.0, n_base=2.0, ga="row")
    loss.ga_active = True
    assert float(loss.row_scale.max()) == 50.0
    cos = torch.tensor([[0.1, 0.3], [0.4, -0.2]])
    y = torch.tensor([1, 0])
    assert float(loss(cos, y)) == pytest.approx(ref_loss(cos, y, counts, 0.5, 30.0, 2.0, "row"), rel=1e-5)


def test_unsorted_loss_matches_reference():
    counts = [10, 300, 50, 4]
    g = torch.Generator().manual_seed(0)
    cos = torch.rand(5, 4, generator=g) * 2 - 1
    y = torch.tensor([0, 3, 1, 2, 3])
    loss = KPSLoss(counts, m_max=0.35, s_base=15.0, n_base=50.0)
    loss.ga_active = True
    assert float(loss(cos, y)) == pytest.approx(ref_loss(cos, y, counts, 0.35, 15.0, 50.0, "column"), rel=1e-5)


def test_degenerate_equals_scaled_ce():
    loss = KPSLoss([20, 20, 20], m_max=0.0, s_base=15.0)
    assert torch.allclose(loss.r, torch.ones(3))
    expect = F.cross_entropy(15.0 * COS, Y)
    assert torch.allclose(loss(COS, Y), expect, atol=1e-6)
    loss.ga_active = True  # s_j = s_base * m'_j = s_base when all counts are equal
    assert torch.allclose(loss(COS, Y), expect, atol=1e-6)


def test_gradient_flows_and_buffers():
    loss = KPSLoss(COUNTS)
    names = {n for n, _ in loss.named_buffers()}
    assert {"r", "m", "m_prime", "s"} <= names
    cos = COS.clone().requires_grad_(True)
    loss(cos, Y).backward()
    assert cos.grad is not None and torch.isfinite(cos.grad).all()


@pytest.mark.parametrize(
    "kw, word",
    [({"m_max": -0.1}, "m_max"), ({"n_base": 0.0}, "n_base"), ({"n_base": 1.0}, "n_base"),
     ({"s_base": 0.0}, "s_base"), ({"ga": "both"}, "ga")],
)
def test_validation(kw, word):
    with pytest.raises(LTSearchError, match=word):
        KPSLoss(COUNTS, **kw)


@pytest.mark.parametrize("counts", [[], [10, 0, 5], [10, -1], None])
def test_bad_counts(counts):
    with pytest.raises(LTSearchError, match="class_counts"):
        KPSLoss(counts)


def test_margins_paper_and_code_on_unsorted_counts():
    """margins: paper = eq. 28 (max r + 1 - r), code = the authors' torch.flip(r); both scale by eq. 29 / 30."""
    counts = [40, 500, 5, 120, 9]  # unsorted, as ImageNet-LT's classes are
    m_max, s_base, n_base = 0.5, 15.0, 50.0
    rp = [math.log(n * n_base / min(counts)) for n in counts]
    r = [v / min(rp) for v in rp]
    paper_mp = [max(r) + 1 - v for v in r]
    code_mp = r[::-1]
    for mode, mp in (("paper", paper_mp), ("code", code_mp)):
        out = kps_lists(counts, m_max, s_base, n_base, margins=mode)
        np.testing.assert_allclose(out["m_prime"].numpy(), mp, rtol=1e-6)
        np.testing.assert_allclose(out["m"].numpy(), [v * m_max / max(mp) for v in mp], rtol=1e-6)
        np.testing.assert_allclose(out["s"].numpy(), [s_base * v for v in mp], rtol=1e-6)
        loss = KPSLoss(counts, m_max, s_base, n_base, margins=mode)
        np.testing.assert_allclose(loss.m.numpy(), [v * m_max / max(mp) for v in mp], rtol=1e-6)
    # unsorted: the two differ (paper gives the 5-image class the largest margin, code does not)
    paper, code = kps_lists(counts, margins="paper"), kps_lists(counts, margins="code")
    assert int(torch.argmax(paper["m"])) == 2
    assert not torch.allclose(paper["m"], code["m"])
    # sorted by count with an exponential profile (CIFAR-LT): they agree
    srt = [1000, 100, 10, 1]
    np.testing.assert_allclose(kps_lists(srt, margins="code")["m"].numpy(),
                               kps_lists(srt, margins="paper")["m"].numpy(), rtol=1e-6)
    with pytest.raises(LTSearchError, match="margins"):
        kps_lists(counts, margins="flip")

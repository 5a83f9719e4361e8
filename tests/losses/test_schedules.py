"""lambda(t) schedules at t = 0, T/2, T against hand values."""

import pytest

from ltsearch.errors import LTSearchError
from ltsearch.losses import LAMBDA_SCHEDULES
from ltsearch.losses.schedules import lambda_at

T = 200
CASES = {
    # name: (kw, values at 0, T/2, T) with lambda_0 = 2
    "constant": ({}, (2.0, 2.0, 2.0)),
    "quadratic": ({}, (2.0, 2.0 * 0.25, 0.0)),
    "linear": ({}, (2.0, 1.0, 0.0)),
    "cosine": ({}, (2.0, 1.0, 0.0)),
    "step": ({}, (2.0, 0.2, 0.2)),
}


def test_names():
    assert LAMBDA_SCHEDULES.names() == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values(name):
    kw, vals = CASES[name]
    f = LAMBDA_SCHEDULES.get(name)
    for t, v in zip((0, T / 2, T), vals):
        assert f(t, T, lambda_0=2.0, **kw) == pytest.approx(v, abs=1e-12)
        assert lambda_at(name, t, T, 2.0, **kw) == pytest.approx(v, abs=1e-12)


def test_quadratic_is_paper_eq7():
    assert LAMBDA_SCHEDULES.get("quadratic")(50, 200) == pytest.approx((1 - 50 / 200) ** 2)
    assert LAMBDA_SCHEDULES.get("cosine")(50, 200) == pytest.approx(0.5 * (1 + 2 ** -0.5))


def test_step_params():
    f = LAMBDA_SCHEDULES.get("step")
    assert f(79, 100, lambda_0=1.0, milestone=0.8, gamma=0.5) == 1.0
    assert f(80, 100, lambda_0=1.0, milestone=0.8, gamma=0.5) == 0.5


def test_errors():
    with pytest.raises(LTSearchError, match="lambda schedule"):
        LAMBDA_SCHEDULES.get("exp")
    with pytest.raises(LTSearchError, match="T"):
        lambda_at("linear", 0, 0)
    with pytest.raises(LTSearchError, match="foo"):
        lambda_at("linear", 0, 10, foo=1)
    with pytest.raises(LTSearchError, match="milestone"):
        lambda_at("step", 0, 10, milestone=2.0)

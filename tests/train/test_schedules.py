"""Learning-rate schedules against hand values (KPS/LDAM-DRW warm-up + multistep; LORT cosine)."""

import math

import pytest

from ltsearch.train.schedules import lr_at


def test_kps_code_multistep_with_warmup_per_epoch():
    # The KPS authors' code on CIFAR: lr 0.1, 5-epoch warm-up, x0.1 at 160, x0.01 at 180 of 200.
    kw = dict(base_lr=0.1, epochs=200, name="multistep", warmup_epochs=5, milestones=[0.8, 0.9], gamma=0.1)
    expected = {0: 0.02, 1: 0.04, 4: 0.1, 5: 0.1, 159: 0.1, 160: 0.01, 179: 0.01, 180: 0.001, 199: 0.001}
    for epoch, lr in expected.items():
        assert lr_at(epoch, **kw) == pytest.approx(lr), epoch


def test_kps_paper_and_ldam_drw_decay_0_01():
    # KPS paper Sec. 4.2.1 / Table 2 and the LDAM-DRW code: x0.01 at 160 and again at 180 (1e-3, 1e-5).
    kw = dict(base_lr=0.1, epochs=200, name="multistep", warmup_epochs=5, milestones=[0.8, 0.9], gamma=0.01)
    expected = {4: 0.1, 159: 0.1, 160: 1e-3, 179: 1e-3, 180: 1e-5, 199: 1e-5}
    for epoch, lr in expected.items():
        assert lr_at(epoch, **kw) == pytest.approx(lr), epoch


def test_kps_imagenet_no_warmup_120_160_of_180():
    kw = dict(base_lr=0.1, epochs=180, name="multistep", warmup_epochs=0, milestones=[2 / 3, 8 / 9], gamma=0.1)
    assert lr_at(0, **kw) == pytest.approx(0.1)
    assert lr_at(119, **kw) == pytest.approx(0.1)
    assert lr_at(120, **kw) == pytest.approx(0.01)
    assert lr_at(160, **kw) == pytest.approx(0.001)


def test_schedules_are_a_registry():
    from ltsearch.train.schedules import LR_SCHEDULES
    assert LR_SCHEDULES.names() == ["constant", "cosine", "multistep"]


def test_lwr_milestones_140_170():
    kw = dict(base_lr=0.1, epochs=200, name="multistep", warmup_epochs=0, milestones=[0.7, 0.85], gamma=0.1)
    assert lr_at(139, **kw) == pytest.approx(0.1)
    assert lr_at(140, **kw) == pytest.approx(0.01)
    assert lr_at(170, **kw) == pytest.approx(0.001)


def test_cosine_to_zero_without_warmup():
    # LORT stage 1: lr 0.01, cosine over 200 epochs: 0.01 at 0, 0.005 at 100.
    kw = dict(base_lr=0.01, epochs=200, name="cosine", warmup_epochs=0)
    assert lr_at(0, **kw) == pytest.approx(0.01)
    assert lr_at(100, **kw) == pytest.approx(0.005)
    assert lr_at(199, **kw) == pytest.approx(0.005 * (1 + math.cos(math.pi * 199 / 200)))


def test_cosine_after_warmup_and_constant():
    kw = dict(base_lr=0.2, epochs=12, name="cosine", warmup_epochs=2)
    assert lr_at(0, **kw) == pytest.approx(0.1)
    assert lr_at(2, **kw) == pytest.approx(0.2)
    assert lr_at(7, **kw) == pytest.approx(0.1)  # half-way through the 10 post-warm-up epochs
    assert lr_at(50, 0.3, 100, "constant") == 0.3


def test_unknown_schedule():
    with pytest.raises(ValueError):
        lr_at(0, 0.1, 10, "exotic")


def test_a_fractional_warm_up_never_exceeds_the_base_lr():
    """A warm-up scaled to a lower sh rung is fractional (5 of 200 epochs at 100: 2.5; at 30: 0.75): it
    ramps up to the base lr and stops there, by hand: 2.5 -> 0.04, 0.08, 0.1 then the schedule; 0.75 -> 0.1."""
    kw = dict(base_lr=0.1, epochs=100, milestones=[0.8, 0.9], gamma=0.1)
    assert [lr_at(e, warmup_epochs=2.5, **kw) for e in range(5)] == pytest.approx([0.04, 0.08, 0.1, 0.1, 0.1])
    assert lr_at(0, warmup_epochs=0.75, **{**kw, "epochs": 30}) == pytest.approx(0.1)
    for w in (0.4, 0.833333, 1.666667, 2.5, 4.999998):
        assert max(lr_at(e, warmup_epochs=w, **kw) for e in range(10)) <= 0.1 + 1e-12

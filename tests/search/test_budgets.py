"""The sh arithmetic against hand-computed values: rung budgets, planned epochs, scaled schedules."""

from ltsearch.search.dispatch import planned_sh_epochs, rung_budgets, survivors
from ltsearch.train import planned_epochs
from ltsearch.train.budget import scale_to_budget


def test_rung_budgets_fractions_and_epochs():
    assert rung_budgets(12) == [3, 12]  # default: one rung at 1/4
    assert rung_budgets(20) == [5, 20]
    assert rung_budgets(20, [0.25, 0.5]) == [5, 10, 20]
    assert rung_budgets(4, [0.25, 0.5]) == [1, 2, 4]
    assert rung_budgets(12, [2, 3]) == [2, 3, 12]
    assert rung_budgets(12, [12, 0.5]) == [6, 12]  # a rung at the full budget is dropped


def test_survivors_and_planned_epochs():
    assert [survivors(n, 3) for n in (16, 6, 2, 1, 0)] == [6, 2, 1, 1, 0]
    assert planned_sh_epochs(16, 1, [3, 6, 12], 3) == 16 * 3 + 6 * 6 + 2 * 12  # 108 = 0.5625 * 192
    assert planned_sh_epochs(24, 3, [4, 12, 20], 3) == 3 * (8 * 4 + 3 * 12 + 1 * 20)


def test_scale_to_budget_keeps_fractions_and_scales_epoch_counts():
    cfg = {"method": {"name": "kps", "params": {"ga_start": 0.6}}, "epochs": 12,
           "schedule": {"warmup_epochs": 3, "milestones": [0.8, 0.9]}}
    out = scale_to_budget(cfg, 4)
    assert out["epochs"] == 4 and out["schedule"]["warmup_epochs"] == 1.0  # 3 * 4 / 12
    assert out["schedule"]["milestones"] == [0.8, 0.9] and out["method"]["params"]["ga_start"] == 0.6
    lort = {"method": {"name": "lort", "params": {"stage2_epochs": 4}}, "epochs": 16, "schedule": {"warmup_epochs": 0}}
    small = scale_to_budget(lort, 5)  # 16 : 4 -> round(5 * 16 / 20) = 4 : 1
    assert (small["epochs"], small["method"]["params"]["stage2_epochs"]) == (4, 1)
    assert planned_epochs(small) == 5 and scale_to_budget(cfg, 12) == cfg

"""The P2 simulations that chose the sh default (bench/p2_frontier.py, bench/gpu_frontier.py), against
hand-computed values: successive halving over measured tables, and the held-out-seed regret."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import gpu_frontier  # noqa: E402
import noise_cut  # noqa: E402
import p2_frontier  # noqa: E402


def table(full: list[float], rungs: dict[int, list[float]] | None = None, E: int = 4) -> p2_frontier.Table:
    """A measured table: ``full`` = each config's best val at ``E`` epochs, ``rungs[b]`` = at budget b."""
    runs = {f"{i}:{E}": {"best": v, "curve": [v]} for i, v in enumerate(full)}
    for b, vals in (rungs or {}).items():
        runs.update({f"{i}:{b}": {"best": v} for i, v in enumerate(vals)})
    return p2_frontier.Table({"configs": [{}] * len(full), "epochs": E, "runs": runs})


def test_successive_halving_by_hand():
    """4 configs, rungs 1, 2, 4, keep 1 in 2: 4 x 1 + 2 x 2 + 1 x 4 = 12 epochs; ties go to the lower index,
    as the dispatcher's (val, trial id) order."""
    from ltsearch.search.dispatch import survivors

    T = table([70, 90, 60, 80], {1: [30, 20, 30, 10], 2: [50, 40, 45, 0]})
    out = p2_frontier.successive_halving(T, [0, 1, 2, 3], [1, 2, 4], 2, set())
    # rung 1: 0 and 2 tie at 30 -> both kept (2 of 4); rung 2: 0 (50) beats 2 (45) -> config 0 at 4 epochs
    assert out == {"consumed": 4 * 1 + 2 * 2 + 1 * 4, "sizes": [4, 2, 1], "winner": 0}
    assert [survivors(n, 2) for n in (4, 2)] == [2, 1]  # the simulation keeps what the dispatcher keeps
    assert out["winner"] != max(range(4), key=lambda i: T.value(i, 4))  # config 1 (90) was lost at rung 1
    missing: set = set()
    assert p2_frontier.successive_halving(T, [0, 1, 2, 3], [1, 3, 4], 2, missing) is None
    assert missing == {(0, 3), (2, 3)}  # what the simulation would need measured


def test_held_out_regret_by_hand():
    """Seed s's pick judged by the mean of the other seeds: the best such mean minus the pick's."""
    tables = {0: table([50, 60, 55]), 1: table([58, 52, 57]), 2: table([56, 54, 59])}
    picks = {0: 1, 1: 0, 2: 2}  # each seed's own full-budget winner
    # seed 0: means over seeds 1-2 = 57, 53, 58 -> 58 - 53; seed 1: over 0, 2 = 53, 57, 57 -> 57 - 53;
    # seed 2: over 0, 1 = 54, 56, 56 -> 56 - 56
    assert gpu_frontier.held_out_regret(tables, picks) == pytest.approx({0: 5.0, 1: 4.0, 2: 0.0})
    assert gpu_frontier.held_out_regret({0: tables[0]}, {0: 1}) == {}  # no other seed to judge by


def test_the_winners_rank_at_a_lower_budget_by_hand():
    """Config 1 wins the full budget (90); at budget 1 it ranks 3rd (30, 30 ahead of its 20: ties by index),
    at budget 2 2nd; a budget some config lacks has no rank."""
    T = table([70, 90, 60, 80], {1: [30, 20, 30, 10], 2: [50, 45, 40, 0]})
    assert [gpu_frontier.winner_rank(T, b) for b in (1, 2, 3)] == [3, 2, None]
    lines = gpu_frontier.winner_rank_lines("toy", {0: T}, budgets=(1, 2, 3))
    assert "| 0 | 1 | 90.0 | 80.0 | 3 / 4 | 2 / 4 | — |" in lines


def test_noise_aware_cut_by_hand():
    """bench/noise_cut.py: z = 0 is plain sh; z > 0 also keeps what lies within z standard errors of the cut.
    At 50 % on 5000 val images the SE of a difference is 100 * sqrt(2 * 0.25 / 5000) = 1.0 pt."""
    assert noise_cut.cut_se(50.0, 5000) == pytest.approx(1.0)
    T = table([70, 90, 60, 80], {1: [50, 49.5, 30, 10], 2: [50, 60, 45, 0]})
    plain = p2_frontier.successive_halving(T, [0, 1, 2, 3], [1, 2, 4], 2, set())
    # z = 0: rung 1 keeps 0 and 1 (the cut, 49.5, is config 1's), rung 2 keeps config 1 (60) -> 90 at 4 epochs
    assert noise_cut.noisy_sh(T, [1, 2, 4], 2, 0, 5000) == (plain["consumed"] / 16, plain["winner"]) == (12 / 16, 1)
    T = table([70, 90, 60, 80], {1: [50, 30, 49.5, 10], 2: [40, 60, 45, 0]})
    # z = 0 drops config 1 (30) at rung 1 -> config 2; z = 1 keeps nothing more (30 is 19.5 pt below the cut)
    assert noise_cut.noisy_sh(T, [1, 2, 4], 2, 0, 5000) == (12 / 16, 2)
    assert noise_cut.noisy_sh(T, [1, 2, 4], 2, 1, 5000) == (12 / 16, 2)
    # 40 val images: SE ~ 11 pt, so z = 2 keeps config 1 (30 >= 49.5 - 22.4) but not 3 (10) at rung 1, and at
    # rung 2 config 0 (40 >= 45 - 22.2) beside 1 and 2: the margin costs 3 full runs, and finds config 1 (90)
    assert noise_cut.noisy_sh(T, [1, 2, 4], 2, 2, 40) == ((4 * 1 + 3 * 2 + 3 * 4) / 16, 1)


def test_a_rung_measured_for_survivors_only_is_simulated():
    """A second rung measured only for the first rung's survivors (as the GPU runs measure it) is enough
    for the settings that promote no more than those; a setting that needs every config there is incomplete."""
    full = [50.0, 60.0, 55.0, 40.0]
    T = table(full, {2: [30, 35, 20, 10], 4: [None, 45, None, None]}, E=12)
    T.runs = {k: v for k, v in T.runs.items() if v["best"] is not None}  # config 1 alone was measured at 4
    rows = {(r["scheduler"], r["setting"]): r for r in p2_frontier.simulate(T)[0]}
    two = rows[("sh", "--rungs 2,4 --reduction-factor 4")]  # keeps 1 of 4 at rung 2: config 1, measured at 4
    assert not two.get("incomplete") and two["winner"] == 1 and two["consumed"] == 4 * 2 + 1 * 4 + 1 * 12
    assert rows[("sh", "--rungs 2,4 --reduction-factor 2")].get("incomplete")  # needs config 0 at 4 epochs
    assert rows[("sh", "--rungs 4 --reduction-factor 2")].get("incomplete")  # needs every config at 4


def test_a_rung_survivor_job_resolves_on_its_own_seed():
    """``rankR@B`` names the R-th best config at budget B on the job's seed (ties by index), and waits
    (None) until every config of the table has that budget on that seed; ``quarter_jobs`` puts a seed's
    survivor jobs after the next seed's rung, so their rung is complete before they are claimed."""
    runs = [{"table": "t", "seed": s, "budget": 5, "config": i, "best": v, "epochs_full": 20}
            for s, vals in ((0, [40, 55, 55]), (1, [60, 50, 45])) for i, v in enumerate(vals)]
    gpu_frontier.TABLE_SIZES["t"] = [{}] * 3
    try:
        assert [gpu_frontier.resolve_rank(runs, "t", f"rank{r}@5", 0) for r in range(4)] == [1, 2, 0, None]
        assert gpu_frontier.resolve_rank(runs, "t", "rank0@5", 1) == 0
        assert gpu_frontier.resolve_rank(runs[:-1], "t", "rank0@5", 1) is None  # seed 1's rung not complete
        assert gpu_frontier.resolve_rank(runs, "t", "rank0", 0) is None  # no full-budget run yet
    finally:
        del gpu_frontier.TABLE_SIZES["t"]
    jobs = gpu_frontier.quarter_jobs(3, seeds=(0, 1), keep=2)
    assert jobs == ([["cifar10-lt-e20", i, 5, 0] for i in range(3)] + [["cifar10-lt-e20", i, 5, 1] for i in range(3)]
                    + [["cifar10-lt-e20", f"rank{r}@5", 10, s] for s in (0, 1) for r in range(2)])


def test_what_a_search_returns_by_hand():
    """Seeds 0 and 1 pick configs 1 and 0: returned runs 60 and 58 (mean 59), BS 59 and 59.5 (paired −0.25);
    retrained: config 1 on seed 1 = 56, config 0 on seed 0 = 50 -> 53."""
    tests = {0: [50.0, 60.0], 1: [58.0, 56.0]}
    out = gpu_frontier.returned(tests, {0: 1, 1: 0}, {0: 59.0, 1: 59.5})
    assert out["per_seed"] == [60.0, 58.0]
    assert out["run"] == pytest.approx(59.0) and out["vs_bs"] == pytest.approx(-0.25)
    assert out["retrained"] == pytest.approx(53.0)
    assert gpu_frontier.returned({0: [1.0, 2.0]}, {0: 1}, {0: 0.0})["retrained"] is None


def test_a_12_epoch_setting_at_20_epochs_by_hand():
    """``at_budget`` keeps the fractions: 2 and 4 of 12 (1/6, 1/3) round to 3 and 7 of 20 (3.33, 6.67); 3 of 12
    (1/4) is 5 of 20; the factor and the default mark are kept / dropped."""
    assert gpu_frontier.at_budget("--rungs 2,4 --reduction-factor 3 (the default)", 12, 20) == \
        "--rungs 3,7 --reduction-factor 3"
    assert gpu_frontier.at_budget("--rungs 3 --reduction-factor 4", 12, 20) == "--rungs 5 --reduction-factor 4"
    assert gpu_frontier.at_budget("--rungs 3,6 --reduction-factor 2", 12, 20) == "--rungs 5,10 --reduction-factor 2"

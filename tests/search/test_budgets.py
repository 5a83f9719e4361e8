"""The sh arithmetic against hand-computed values: rung budgets, planned epochs, scaled schedules."""

import pytest
import yaml

from ltsearch.search.dispatch import planned_sh_epochs, survivors
from ltsearch.search.request import rung_budgets
from ltsearch.train import planned_epochs
from ltsearch.train.budget import scale_to_budget


def test_rung_budgets_fractions_and_epochs():
    assert rung_budgets(12) == [3, 12]  # default: one rung at 1/4
    assert rung_budgets(20) == [5, 20]
    assert rung_budgets(8) == [2, 8]
    assert rung_budgets(4) == [2, 4]  # a default rung trains at least 2 epochs (1 ranks at chance)
    assert rung_budgets(12, [1 / 6, 1 / 3]) == [2, 4, 12]  # session 10's default, as --rungs
    assert rung_budgets(3) == [2, 3] and rung_budgets(2) == [2]  # rungs on the same epoch are one rung
    assert rung_budgets(8, [0.1]) == [1, 8]  # explicit rungs are taken as given
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


def test_default_reduction_factor_is_4_for_sh_and_3_for_asha(tmp_path):
    """A new search's state takes its scheduler's factor unless --reduction-factor gives one; and the
    default sh search costs half the epochs of training every config fully."""
    from ltsearch.search.engine import _open_state
    from ltsearch.search.prepare import prepare
    from ltsearch.search.request import REDUCTION_FACTORS, SearchRequest

    assert REDUCTION_FACTORS == {"sh": 4.0, "asha": 3.0}
    for i, (scheduler, given, want) in enumerate([("sh", None, 4.0), ("asha", None, 3.0), ("sh", 2.0, 2.0)]):
        req = SearchRequest(method="kps", dataset="digits-lt", epochs=12, scheduler=scheduler,
                            reduction_factor=given, storage_path=str(tmp_path))
        space, _ = prepare(req)
        state = _open_state(req, space, tmp_path / f"s{i}", f"s{i}", "digits-lt", None, 12)
        assert state.reduction_factor == want, (scheduler, given)
    # the default sh search of 16 configs at 12 epochs: 16 x 3 + ceil(16/4)=4 x 12 = 96 epochs, 0.5 of 16 x 12;
    # at 20 epochs 32 configs: 32 x 5 + 8 x 20 = 320, 0.5 of 32 x 20; the embedded 8 x 8: 8 x 2 + 2 x 8 = 32
    assert planned_sh_epochs(16, 1, rung_budgets(12), 4.0) == 96
    assert planned_sh_epochs(32, 1, rung_budgets(20), 4.0) == 320
    assert planned_sh_epochs(8, 1, rung_budgets(8), 4.0) == 32


def test_resume_keeps_the_saved_reduction_factor(tmp_path):
    """A search keeps the factor it started with; a state saved before the factor was recorded resumes
    with the old default, 3."""
    import json

    from ltsearch.search.engine import _open_state
    from ltsearch.search.prepare import prepare
    from ltsearch.search.request import SearchRequest
    from ltsearch.search.state import STATE_FILE, SearchState

    req = SearchRequest(method="kps", dataset="digits-lt", epochs=12, reduction_factor=5, storage_path=str(tmp_path))
    space, _ = prepare(req)
    folder = tmp_path / "s"
    state = _open_state(req, space, folder, "s", "digits-lt", None, 12)
    assert (state.budgets, state.reduction_factor) == ([3, 12], 5)
    again = _open_state(SearchRequest(method="kps", dataset="digits-lt", epochs=12), space, folder, "s", "digits-lt",
                        SearchState.load(folder), 12)
    assert again.reduction_factor == 5
    data = json.loads((folder / STATE_FILE).read_text())
    del data["reduction_factor"]
    (folder / STATE_FILE).write_text(json.dumps(data))
    legacy = _open_state(req, space, folder, "s", "digits-lt", SearchState.load(folder), 12)
    assert legacy.reduction_factor == 3.0


@pytest.mark.parametrize("method", ["kps", "lort", "lwr", "ldam-drw", "bs"])
def test_with_budget_of_undoes_scale_to_budget(method):
    """A lower rung's config with the full budget's scaled keys is the full-budget config, key order
    included (``ltsearch confirm`` retrains configs the search stopped at a lower rung)."""
    from ltsearch.config import flatten
    from ltsearch.search.space import load_space
    from ltsearch.train.budget import SCALED_KEYS, with_budget_of

    space = load_space(method, dataset="cifar10-lt")
    base = space.base_config({"epochs": 20})
    full = space.config_for(space.paper_point(base), base)
    for budget in (2, 3, 7):
        low = scale_to_budget(full, budget)
        a, b = flatten(low), flatten(full)
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        assert changed and changed <= set(SCALED_KEYS)  # scale_to_budget changes nothing else
        back = with_budget_of(low, full)
        assert back == full and yaml.safe_dump(back, sort_keys=False) == yaml.safe_dump(full, sort_keys=False)
    knobs = scale_to_budget({**full, "optim": {**full["optim"], "lr": 0.0123}}, 3)
    assert with_budget_of(knobs, full)["optim"]["lr"] == 0.0123  # the rung's knobs stay


def test_a_bracket_of_one_config_trains_the_full_budget_at_once(tmp_path):
    """`--trials 1` (or no more configs than brackets) has nothing to rank at a lower rung: budgets [12],
    12 epochs a config, not 3 + 12."""
    from ltsearch.search.engine import _open_state
    from ltsearch.search.prepare import prepare
    from ltsearch.search.request import SearchRequest

    cases = [(1, 1, [12]), (3, 3, [12]), (4, 3, [3, 12]), (2, 1, [3, 12])]  # trials, brackets, budgets
    for i, (trials, brackets, budgets) in enumerate(cases):
        req = SearchRequest(method="kps", dataset="digits-lt", epochs=12, trials=trials, brackets=brackets,
                            storage_path=str(tmp_path))
        space, _ = prepare(req)
        state = _open_state(req, space, tmp_path / f"s{i}", f"s{i}", "digits-lt", None, 12)
        assert state.budgets == budgets, (trials, brackets)
    assert planned_sh_epochs(1, 1, [12], 3) == 12 and planned_sh_epochs(3, 3, [12], 3) == 36


def test_confirm_takes_the_recorded_full_budget_config_else_the_first_rows_budget():
    """`confirm`'s configs: a rung run's recorded full-budget config where it has one (here LORT, whose
    stages both scale); for a search from before runs recorded it, the rung run's knobs with the first
    row's budget; a row at the first row's budget as it is."""
    from ltsearch.reports.confirm import full_budget_configs
    from ltsearch.search.space import load_space

    space = load_space("lort", dataset="cifar10-lt")
    base = space.base_config({"epochs": 20})
    full = space.config_for(space.paper_point(base), base)
    other = {**full, "optim": {**full["optim"], "lr": 0.0123}}
    rows = [{"budget_epochs": planned_epochs(full)}, {"budget_epochs": 7}, {"budget_epochs": 3}]
    rung7, rung3 = scale_to_budget(other, 7), scale_to_budget(full, 3)
    (a, notes_a), (b, notes_b), (c, notes_c) = full_budget_configs(rows, [full, rung7, rung3], [None, None, full])
    assert a == full and notes_a == ()
    assert b == other and notes_b == (f"# the search stopped this config at its rung of 7 epochs; here at the "
                                      f"search's full budget ({planned_epochs(full)} epochs)",)
    assert c == full and "rung of 3 epochs" in notes_c[0]
    # a search stopped before any config reached its full budget: its first row is a rung run
    (d, notes_d), = full_budget_configs([{"budget_epochs": 7}], [rung7], [other])
    assert d == other and "rung of 7 epochs" in notes_d[0]
    (e, notes_e), = full_budget_configs([{"budget_epochs": 7}], [rung7], [None])  # nothing recorded: as it is
    assert e == rung7 and notes_e == ()


def test_a_grid_search_counts_the_grid_it_dispatches(tmp_path):
    """A grid leaves the dims outside ``--grid-over`` at their paper value. Where a categorical's paper
    value is not its first choice (LWR on CIFAR-100-LT with lambda_schedule searched over step,
    quadratic: paper quadratic), the state must count that grid (3 points), not the one with every
    left-out dim at its first choice (9: the dispatcher then ran off the end of its grid)."""
    from ltsearch.search.engine import _grid, _open_state
    from ltsearch.search.prepare import prepare
    from ltsearch.search.request import SearchRequest

    req = SearchRequest(method="lwr", dataset="cifar100-lt", search="grid", grid_points=3,
                        params=["lambda_schedule=step,quadratic"], grid_over=["lambda_milestone", "optim.lr"],
                        storage_path=str(tmp_path))
    space, base = prepare(req)
    grid = _grid(req, space, base)
    state = _open_state(req, space, tmp_path / "s", "s", "cifar100-lt", None, 12, grid)
    assert state.configs == len(grid) == 3
    assert {p["lambda_schedule"] for p in grid if "lambda_schedule" in p} <= {"quadratic"}


def test_with_budget_of_changes_neither_config_and_undoes_empty_sections():
    """``search_spaces/ce.yaml``-like configs hold empty sections (``schedule: {}``, ``params: {}``):
    the round trip gives them back, and neither argument is changed."""
    import copy

    from ltsearch.train.budget import with_budget_of

    c = {"method": {"name": "ce", "params": {}}, "schedule": {}, "epochs": 10}
    for b in (2, 5):
        low = scale_to_budget(c, b)
        before = (copy.deepcopy(low), copy.deepcopy(c))
        assert with_budget_of(low, c) == c
        assert (low, c) == before
    lort = {"method": {"name": "lort", "params": {}}, "epochs": 10}
    other = {"method": {"name": "lort", "params": {"stage2_epochs": 5}}, "epochs": 10}
    assert with_budget_of(lort, other)["method"]["params"] == {"stage2_epochs": 5}
    assert lort["method"]["params"] == {}  # the input is not changed


def test_a_two_stage_warm_up_scales_with_stage_1():
    """LORT, 10 + 20 epochs, warm-up 5: at budget 5 stage 1 gets round(5 * 10 / 30) = 2 epochs (x 0.2), so
    its warm-up is 5 * 2 / 10 = 1.0, not 5 * 5 / 30 = 0.833 (the whole run's factor)."""
    c = {"method": {"name": "lort", "params": {"stage2_epochs": 20}}, "epochs": 10, "schedule": {"warmup_epochs": 5}}
    low = scale_to_budget(c, 5)
    assert low["epochs"] == 2 and low["method"]["params"]["stage2_epochs"] == 3
    assert low["schedule"]["warmup_epochs"] == 1.0


def test_a_refused_resume_names_the_first_changed_line_of_the_space():
    from ltsearch.search.engine import _first_change

    before = "method: kps\nfixed:\n  epochs: 4\n  n_base: 50\n"
    assert _first_change(before, before.replace("epochs: 4", "epochs: 6")) == "was 'epochs: 4', now 'epochs: 6'"
    assert _first_change(before, before + "  ga: off\n") == "was 'nothing', now 'ga: off'"


def test_the_header_says_keep_1_in_n_only_where_a_rung_halves():
    """sh with budgets [2] (``--epochs 2``: no lower rung) halves nothing; sh with a lower rung and ASHA do."""
    from ltsearch.search.engine import _keep_note
    from ltsearch.search.request import SearchRequest
    from ltsearch.search.state import SearchState

    def note(scheduler, budgets, factor):
        state = SearchState(name="s", method="kps", experiment="e", scheduler=scheduler, configs=4, budgets=budgets)
        return _keep_note(SearchRequest(method="kps", scheduler=scheduler, reduction_factor=factor), state)

    assert note("sh", [2, 8], 4.0) == ", keep 1 in 4"
    assert note("sh", [2], 4.0) == " (no lower rung: every config trains the full budget)"
    assert note("asha", [8], 3.0) == ", keep 1 in 3"
    assert note("none", [8], None) == ""

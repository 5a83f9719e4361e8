"""``--warm-start``: a new search's study starts from an earlier search's finished trials (real
Optuna, a temporary sqlite storage), under the new space's ranges."""

from __future__ import annotations

import optuna
import pytest

from ltsearch.errors import LTSearchError
from ltsearch.search.space import load_space
from ltsearch.search.study import ATTR_WARM, Study, check_warm_sources

KNOBS = ["optim.lr=0.02:0.2:log"]


def earlier_search(url: str) -> tuple[Study, dict]:
    """A finished 'earlier' search: the paper point and two configs complete, one pruned, one failed."""
    space = load_space("kps", dataset="cifar10-lt", params=KNOBS)
    base = space.base_config()
    study = Study.open(url, "earlier", space, "earlier", "tpe", 0, space.paper_point(base), shared=False, fresh=True)
    paper = None
    for i, state in enumerate(["complete", "complete", "complete", "pruned", "fail"]):
        number, values = study.ask()
        paper = paper or values
        study.report(number, 5, 30.0 + i)
        study.finish(number, state, 40.0 + i)
    return study, paper


def test_warm_start_copies_finished_trials_and_skips_a_measured_paper_point(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    old, paper = earlier_search(url)
    # a wider lr range: every earlier value fits
    space = load_space("kps", dataset="cifar10-lt", params=["optim.lr=0.005:0.2:log"])
    new = Study.open(url, "later", space, "later", "tpe", 1, space.paper_point(space.base_config()),
                     shared=False, fresh=True, warm=["earlier"])
    trials = new.study.get_trials(deepcopy=False)
    before = [t for t in old.study.get_trials(deepcopy=False)
              if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(trials) == len(before) == 4  # the failed trial is left out; no paper point enqueued again
    assert [t.params for t in trials] == [t.params for t in before]
    assert [t.state for t in trials] == [t.state for t in before]
    assert [t.value for t in trials] == [40.0, 41.0, 42.0, None]
    assert trials[3].intermediate_values == {5: 33.0}
    assert all(t.user_attrs[ATTR_WARM] == "earlier" for t in trials)
    assert trials[0].params == paper
    # the new study's first own trial is sampled by TPE from what it learned (no start-up trials left)
    number, values = new.ask()
    assert number == 4 and 0.005 <= values["optim.lr"] <= 0.2


def test_warm_start_leaves_out_values_outside_the_new_ranges(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    old, _ = earlier_search(url)
    lrs = sorted(t.params["optim.lr"] for t in old.study.get_trials(deepcopy=False) if t.state.is_finished()
                 and t.state != optuna.trial.TrialState.FAIL)
    cut = (lrs[1] + lrs[2]) / 2  # keep the two largest learning rates only
    space = load_space("kps", dataset="cifar10-lt", params=[f"optim.lr={cut}:0.2:log"])
    new = Study.open(url, "narrow", space, "narrow", "tpe", 0, space.paper_point(space.base_config()),
                     shared=False, fresh=True, warm=["earlier"])
    kept = [t for t in new.study.get_trials(deepcopy=False) if ATTR_WARM in t.user_attrs]
    assert sorted(t.params["optim.lr"] for t in kept) == lrs[2:]


@pytest.mark.parametrize("warm, method, message", [
    ("nothing", "kps", "--warm-start nothing: no study of that name"),
    ("earlier", "lwr", "--warm-start earlier: that search has method kps, this one lwr"),
])
def test_warm_start_from_a_missing_or_other_search_names_it(tmp_path, warm, method, message):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    earlier_search(url)
    space = load_space(method, dataset="cifar10-lt")
    with pytest.raises(LTSearchError, match=message):
        Study.open(url, "later", space, "later", "tpe", 0, None, shared=False, fresh=True, warm=[warm])


def test_warm_start_is_checked_before_anything_is_written(tmp_path):
    """The engine calls check_warm_sources before the state, MLflow or Optuna store exists: a missing
    store is not created, a study of another method or metric is refused by name."""
    missing = tmp_path / "none" / "optuna.db"
    space = load_space("kps", dataset="cifar10-lt")
    with pytest.raises(LTSearchError, match="--warm-start kps-old: no Optuna store at"):
        check_warm_sources(f"sqlite:///{missing}", ["kps-old"], space)
    assert not missing.exists() and not missing.parent.exists()
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    earlier_search(url)
    check_warm_sources(url, ["earlier"], load_space("kps", dataset="cifar10-lt", params=KNOBS))
    with pytest.raises(LTSearchError, match="that search has method kps, this one ce"):
        check_warm_sources(url, ["earlier"], load_space("ce", dataset="cifar10-lt"))
    with pytest.raises(LTSearchError, match="that search has metric val/acc, this one val/few"):
        check_warm_sources(url, ["earlier"], load_space("kps", dataset="cifar10-lt", metric="val/few"))

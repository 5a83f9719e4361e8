"""`ltsearch searches` / `compare`: a search's best trial is the one its leaderboard ranks first."""

from __future__ import annotations

from ltsearch.reports.searches import best_trial


def _run(name: str, budget: int, value: float, status: str = "completed", metric: str = "val/acc") -> dict:
    return {"run_id": name + "-id", "run_name": name, "status": "FINISHED",
            "tags": {"ltsearch.status": status, "ltsearch.budget": str(budget)}, "params": {"epochs": str(budget)},
            "metrics": {f"best/{metric}": value}}


def test_the_best_trial_is_at_the_full_budget_in_the_metrics_direction_earliest_on_a_tie():
    runs = [_run("t000", 2, 90.0), _run("t001", 2, 30.0), _run("t001-r1", 8, 55.0), _run("t002-r1", 8, 61.0),
            _run("t003-r1", 8, 61.0), _run("t004-r1", 8, 70.0, status="failed")]
    value, run = best_trial(runs)
    assert (value, run["run_name"]) == (61.0, "t002-r1")  # not the 2-epoch rung's 90, not the failed 70
    losses = [_run("t000", 8, 0.9, metric="val/loss"), _run("t001", 8, 0.4, metric="val/loss"),
              _run("t002", 8, 1.3, metric="val/loss")]
    value, run = best_trial(losses, "val/loss")
    assert (value, run["run_name"]) == (0.4, "t001")  # a loss: the lowest
    assert best_trial([]) == (None, None)

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


def test_searches_count_configs_as_the_search_summary_does():
    """4 configs of an sh search (budgets 2, 4, 8): t000 and t001 end at a lower rung (stopped), t002
    completes the full budget, t003 fails at its second rung; 7 rung runs, 4 configs."""
    from ltsearch.reports.searches import config_states, summarize

    runs = [_run("t000", 2, 10.0), _run("t001", 2, 12.0), _run("t002", 2, 30.0), _run("t003", 2, 20.0),
            _run("t001-r1", 4, 25.0), _run("t002-r1", 4, 40.0), _run("t003-r1", 4, 0.0, status="failed"),
            _run("t002-r2", 8, 60.0)]
    assert config_states(runs) == {0: "stopped", 1: "stopped", 2: "completed", 3: "failed"}
    row = summarize("digits-lt-ir10", None, runs)
    assert (row["completed"], row["stopped"], row["failed"], row["best"]) == (1, 2, 1, 60.0)

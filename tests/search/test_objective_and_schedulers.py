"""Issue 12 on digits-lt with a real local Ray (2 CPUs), real Optuna and a temporary sqlite MLflow:
one objective everywhere, truthful Optuna states and steps, schedule-aware successive halving.

The trials use a schedule whose learning rate jumps x30 half way (milestone 0.5, gamma 30), so
the validation accuracy peaks before the last epoch and the best epoch differs from the last one.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

pytest.importorskip("ray")

import optuna  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

from ltsearch.config import load_yaml  # noqa: E402
from ltsearch.reports import leaderboard  # noqa: E402
from ltsearch.search.engine import run_search  # noqa: E402
from ltsearch.search.request import SearchRequest  # noqa: E402
from ltsearch.tracking import TAG_KIND, TAG_SEARCH, TAG_STATUS, TAG_TRIAL_ID  # noqa: E402

PEAKY = ["schedule.milestones=[0.5]", "schedule.gamma=30"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("objective")
    return {"root": root, "uri": f"sqlite:///{root / 'mlflow.db'}", "trials": root / "trials",
            "optuna": f"sqlite:///{root / 'optuna.db'}"}


def search(store, name, **kw):
    kw.setdefault("trials", 4)
    kw.setdefault("epochs", 4)
    return run_search(SearchRequest(method="kps", name=name, search="random", seed=3, sets=PEAKY,
                                    tracking_uri=store["uri"], storage_path=store["trials"], display=False, **kw))


def mlflow_runs(store, name):
    client = MlflowClient(store["uri"])
    exp = client.get_experiment_by_name("digits-lt-ir10")
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.`{TAG_SEARCH}` = '{name}'")
    return (client, [r for r in runs if r.data.tags[TAG_KIND] == "search"],
            {r.data.tags[TAG_TRIAL_ID]: r for r in runs if r.data.tags[TAG_KIND] == "trial"})


def history(client, run, key="val/acc"):
    return {m.step: m.value for m in client.get_metric_history(run.info.run_id, key)}


@pytest.fixture(scope="module")
def asha(ray_session, store):
    return search(store, "obj-asha", scheduler="asha", grace_period=1, reduction_factor=2)


@pytest.fixture(scope="module")
def sh(ray_session, store):
    log = io.StringIO()  # no terminal: the plain log lines a batch job sees
    with contextlib.redirect_stderr(log):
        result = search(store, "obj-sh", scheduler="sh", rungs=[0.25, 0.5], grace_period=1, reduction_factor=2)
    result.log = log.getvalue()
    return result


def test_one_objective_everywhere(asha, store):
    """Optuna's value, the summary, the MLflow trial and parent, the leaderboard rank: all the
    best-epoch val/acc, which here is above the last epoch's."""
    client, (parent,), runs = mlflow_runs(store, "obj-asha")
    study = optuna.load_study(study_name="obj-asha", storage=store["optuna"])
    by_config = {t.user_attrs["ltsearch.config_id"]: t for t in study.trials}
    peaked = 0
    for s in asha.trials:
        run = runs[s.trial_id]
        val = history(client, run)
        assert s.metric == pytest.approx(max(val.values()))  # the best epoch, not the last
        assert run.data.metrics["best/val/acc"] == pytest.approx(s.metric)
        assert by_config[s.trial_id].value == pytest.approx(s.metric)
        if s.status == "completed":
            peaked += max(val.values()) > val[max(val)]
    assert peaked >= 1, "the schedule should make some trial peak before its last epoch"
    assert parent.data.metrics["best/val/acc"] == pytest.approx(asha.best_metric)
    best = max((s for s in asha.trials if s.status == "completed"), key=lambda s: s.metric)
    assert asha.best_trial_id == best.trial_id
    assert parent.data.tags["ltsearch.best_run"] == runs[best.trial_id].info.run_id
    rows = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"], search="obj-asha").ranked
    assert rows[0]["run_id"] == runs[best.trial_id].info.run_id
    assert rows[0]["val"] == pytest.approx(best.metric)


def test_study_states_steps_and_links_are_truthful(asha, store):
    client, _, runs = mlflow_runs(store, "obj-asha")
    study = optuna.load_study(study_name="obj-asha", storage=store["optuna"])
    assert len(study.trials) == 4
    for t in study.trials:
        run = runs[t.user_attrs["ltsearch.config_id"]]
        assert t.user_attrs["ltsearch.mlflow_run_id"] == run.info.run_id
        assert t.user_attrs["ltsearch.tune_trial_id"] == run.data.tags["ltsearch.tune_trial_id"]
        status = run.data.tags[TAG_STATUS]
        assert t.state.name == {"completed": "COMPLETE", "stopped": "PRUNED", "failed": "FAIL"}[status]
        # intermediate values at exactly the epochs MLflow has, each the best so far
        assert sorted(t.intermediate_values) == sorted(history(client, run))
        assert t.intermediate_values == pytest.approx(history(client, run, "best/val/acc"))
    assert any(t.state.name == "PRUNED" for t in study.trials), "ASHA should stop a 10 %-accuracy trial"


def test_sh_trains_complete_scaled_schedules_and_promotes_the_best(sh, asha, store):
    client, (parent,), runs = mlflow_runs(store, "obj-sh")
    rungs = {}
    for rid, run in runs.items():
        rungs.setdefault(int(run.data.tags["ltsearch.rung"]), []).append(run)
    assert {k: len(v) for k, v in rungs.items()} == {0: 4, 1: 2, 2: 1}
    for rung, budget in ((0, 1), (1, 2), (2, 4)):
        for run in rungs[rung]:
            assert run.data.tags["ltsearch.budget"] == str(budget)
            cfg = load_yaml(Path(sh.storage_dir) / "trials" / run.data.tags[TAG_TRIAL_ID] / "config.yaml")
            assert cfg["epochs"] == budget  # the complete schedule scaled to the rung's budget
            assert cfg["schedule"]["milestones"] == [0.5]  # fractions of the run keep their place
            assert sorted(history(client, run)) == list(range(1, budget + 1))
    for rung in (0, 1):  # the best of each rung went on, the others did not
        ranked = sorted(rungs[rung], key=lambda r: (-r.data.metrics["best/val/acc"], r.data.tags[TAG_TRIAL_ID]))
        keep = {r.data.tags["ltsearch.config_id"] for r in ranked[:len(rungs[rung + 1])]}
        assert keep == {r.data.tags["ltsearch.config_id"] for r in rungs[rung + 1]}
    assert parent.data.metrics["epochs_consumed"] == 4 * 1 + 2 * 2 + 1 * 4 == sh.epochs_consumed
    study = optuna.load_study(study_name="obj-sh", storage=store["optuna"])
    states = sorted(t.state.name for t in study.trials)
    assert states == ["COMPLETE", "PRUNED", "PRUNED", "PRUNED"]
    for t in study.trials:  # one intermediate value per rung reached, at step = its budget
        assert set(t.intermediate_values) <= {1, 2, 4} and 1 in t.intermediate_values
    # --search random with the same --seed samples the same configs whatever the scheduler
    assert {s.trial_id: s.params for s in sh.trials} == {s.trial_id: s.params for s in asha.trials}
    state = json.loads((Path(sh.storage_dir) / "search.json").read_text())
    assert state["status"] == "completed" and len(state["runs"]) == 7


def test_sh_log_names_each_rung_decision(sh):
    """A batch job's log says which configs each rung promoted and which it stopped; a rung run that
    is not the last is 'rung done', never 'completed'."""
    lines = sh.log.splitlines()
    assert any("rung 0 (1 ep) decided: 2 promoted" in line and "2 stopped" in line for line in lines), sh.log
    assert any("rung 1 (2 ep) decided: 1 promoted" in line and "1 stopped" in line for line in lines), sh.log
    rung_done = [line for line in lines if " rung done " in line]
    completed = [line for line in lines if " completed " in line]
    assert len(rung_done) == 4 + 2 and len(completed) == 1, sh.log
    assert "(4 ep)" in completed[0] and "done 4/4" in completed[0]


def test_confirm_fills_its_top_from_the_lower_rungs_at_the_full_budget(sh, store, tmp_path):
    """The sh search took 1 of its 4 configs to the full 4 epochs: `ltsearch confirm --top 3` trains
    that one, then the best config stopped at rung 1 (2 ep), then the best stopped at rung 0 (1 ep),
    each at the full budget with the knobs its rung run had; all three are final rows of 4 epochs."""
    import shutil

    from typer.testing import CliRunner

    from ltsearch.cli.main import app

    db = tmp_path / "mlflow.db"
    shutil.copy(store["root"] / "mlflow.db", db)  # the final runs stay out of the other tests' store
    uri = f"sqlite:///{db}"
    client, _, runs = mlflow_runs(store, "obj-sh")
    by_rung: dict = {}
    for run in runs.values():
        by_rung.setdefault(int(run.data.tags["ltsearch.rung"]), []).append(run)
    expected, seen = [], set()
    for rung in (2, 1, 0):  # the search's own order: highest rung first, each config once
        for run in sorted(by_rung[rung], key=lambda r: (-r.data.metrics["best/val/acc"], r.data.tags[TAG_TRIAL_ID])):
            if run.data.tags["ltsearch.config_id"] not in seen:
                seen.add(run.data.tags["ltsearch.config_id"])
                expected.append(run)
    expected = expected[:3]
    assert [int(r.data.tags["ltsearch.rung"]) for r in expected] == [2, 1, 0]
    out = tmp_path / "confirm"
    res = CliRunner().invoke(app, ["confirm", "-d", "digits-lt", "--name", "obj-sh", "--top", "3", "--seeds", "0",
                                   "--tracking-uri", uri, "--output", str(out)])
    assert res.exit_code == 0, res.output
    full = load_yaml(Path(sh.storage_dir) / "trials" / expected[0].data.tags[TAG_TRIAL_ID] / "config.yaml")
    for run in expected:
        name = run.data.tags[TAG_TRIAL_ID]
        text = (out / f"{name}.yaml").read_text()
        cfg = load_yaml(out / f"{name}.yaml")
        cfg.pop("ltsearch")
        rung_cfg = load_yaml(Path(sh.storage_dir) / "trials" / name / "config.yaml")
        assert cfg["epochs"] == 4 and cfg["method"] == rung_cfg["method"] and cfg["optim"] == rung_cfg["optim"]
        assert {k: v for k, v in cfg.items() if k not in ("method", "optim", "dataset", "cache_dir")} == {
            k: v for k, v in full.items() if k not in ("method", "optim", "dataset", "cache_dir")}
        budget = int(run.data.tags["ltsearch.budget"])
        assert (f"stopped this config at its rung of {budget} epochs" in text) == (budget < 4)
        assert f"({budget} ep)" in res.output or budget == 4
    finals = [r for r in leaderboard.build("digits-lt", 10, tracking_uri=uri).ranked if r["kind"] == "final"]
    assert sorted(f["source_run"] for f in finals) == sorted(r.info.run_id for r in expected)
    assert {f["budget_epochs"] for f in finals} == {4}


def test_confirm_of_a_search_stopped_before_its_full_budget_trains_at_the_planned_budget(sh, store, tmp_path):
    """A search killed before any config reached its full budget (here: its one full-budget run
    deleted) leaves only rung runs. Each recorded its config at the full budget, so `confirm` trains
    the best of them at the search's planned 4 epochs, not at the 2 of the highest rung it reached."""
    import shutil

    from typer.testing import CliRunner

    from ltsearch.cli.main import app

    db = tmp_path / "mlflow.db"
    shutil.copy(store["root"] / "mlflow.db", db)
    uri = f"sqlite:///{db}"
    client, _, runs = mlflow_runs(store, "obj-sh")
    for run in runs.values():  # every run below the full budget recorded its full-budget config
        recorded = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert ("full_budget_config.yaml" in recorded) == (run.data.tags["ltsearch.budget"] != "4"), recorded
    (full_run,) = [r for r in runs.values() if r.data.tags["ltsearch.budget"] == "4"]
    MlflowClient(uri).delete_run(full_run.info.run_id)
    rung1 = sorted((r for r in runs.values() if r.data.tags["ltsearch.rung"] == "1"),
                   key=lambda r: (-r.data.metrics["best/val/acc"], r.data.tags[TAG_TRIAL_ID]))
    out = tmp_path / "confirm"
    res = CliRunner().invoke(app, ["confirm", "-d", "digits-lt", "--name", "obj-sh", "--top", "1", "--seeds", "0",
                                   "--tracking-uri", uri, "--output", str(out)])
    assert res.exit_code == 0, res.output
    name = rung1[0].data.tags[TAG_TRIAL_ID]
    text = (out / f"{name}.yaml").read_text()
    assert "stopped this config at its rung of 2 epochs; here at the search's full budget (4 epochs)" in text
    cfg = load_yaml(out / f"{name}.yaml")
    rung_cfg = load_yaml(Path(sh.storage_dir) / "trials" / name / "config.yaml")
    full_cfg = load_yaml(Path(sh.storage_dir) / "trials" / full_run.data.tags[TAG_TRIAL_ID] / "config.yaml")
    assert cfg["epochs"] == 4 and cfg["schedule"] == full_cfg["schedule"]
    assert cfg["method"] == rung_cfg["method"] and cfg["optim"] == rung_cfg["optim"]
    assert "(2 ep)" in res.output
    (final,) = [r for r in leaderboard.build("digits-lt", 10, tracking_uri=uri).ranked if r["kind"] == "final"]
    assert final["source_run"] == rung1[0].info.run_id and final["budget_epochs"] == 4


def test_sh_with_one_config_per_bracket_trains_each_once_at_the_full_budget(ray_session, store):
    """Two configs in two brackets: each trains 4 epochs once (8 in all), not 1 + 2 + 4 each; the second
    bracket still waits for the first, and the parent records the single budget."""
    result = search(store, "obj-sh-single", scheduler="sh", trials=2, brackets=2, rungs=[0.25, 0.5])
    assert result.epochs_consumed == 8 == result.full_epochs
    assert sorted((s.trial_id, s.status, s.epochs) for s in result.trials) == [("t000", "completed", 4),
                                                                               ("t001", "completed", 4)]
    _, (parent,), runs = mlflow_runs(store, "obj-sh-single")
    assert parent.data.params["sh.budgets"] == "4" and len(runs) == 2

"""``ltsearch run METHOD --resume --name NAME`` takes the flags the search started with (saved in its
state): a search started with non-default flags and stopped resumes from its name alone and ends with the
configs and budgets it would have had; a flag given with another value is refused in one line, nothing
written; a state saved before the flags were recorded resumes as before (with its flags repeated).
Real searches (real Ray, Optuna, sqlite MLflow) on digits-lt, through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytest.importorskip("ray")

from typer.testing import CliRunner  # noqa: E402

from ltsearch.search import faults  # noqa: E402
from ltsearch.search.state import STATE_FILE  # noqa: E402

from ..bad_input.harness import check_case, preload  # noqa: E402

# a search shaped by its flags: random search (per-trial-seeded values), --seed 3, one searched range, one
# fixed knob, 2 epochs, sh with a rung at half the run and keep 1 in 2 (budgets [1, 2]; the default would be [2])
STARTED = ["--search", "random", "--trials", "3", "--epochs", "2", "--seed", "3", "--param", "optim.lr=0.05:0.2",
           "--fix", "optim.batch_size=64", "--rungs", "0.5", "--reduction-factor", "2"]


def _ltsearch(*args: str, fault: str | None = None, monkeypatch=None):
    from ltsearch.cli.main import app

    if fault:
        monkeypatch.setattr(faults, "_hits", {})
        monkeypatch.setenv("LTSEARCH_FAULT", fault)
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        monkeypatch.delenv("LTSEARCH_FAULT", raising=False)


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # ./mlflow.db, ./optuna.db, ./trials
    for key in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS", "LTSEARCH_FAULT"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def _state(root: Path, name: str) -> dict:
    return json.loads((root / "trials" / name / STATE_FILE).read_text())


def test_a_stopped_search_resumes_from_its_name_alone_with_the_flags_it_started_with(ray_session, here, monkeypatch):
    # Ctrl-C once MLflow and Optuna are open (the parent run and the study with its paper point exist)
    first = _ltsearch("run", "ce", "--name", "rs", *STARTED, "--no-live", fault="ray:1:INT", monkeypatch=monkeypatch)
    assert first.exit_code == 130, first.output
    saved = _state(here, "rs")
    assert saved["status"] == "stopped" and saved["runs"] == {}
    assert saved["request"]["seed"] == 3 and saved["request"]["rungs"] == [0.5]
    from ltsearch.cli.search_cmds import _how_to_resume
    from ltsearch.search.request import SearchRequest

    said = _how_to_resume(SearchRequest(method="ce"), "rs")  # what the interrupted command prints
    assert said == "continue with: ltsearch run ce --name rs --resume"

    # only the name (and flags that may change between sessions; --epochs given as it started is fine)
    res = _ltsearch("run", "ce", "--resume", "--name", "rs", "--epochs", "2", "--max-concurrent", "2",
                    "--figures", "none", "--retries", "1", "--no-live", monkeypatch=monkeypatch)
    assert res.exit_code == 0, res.output
    state = _state(here, "rs")
    assert state["status"] == "completed" and state["sessions"] == 2
    assert (state["configs"], state["budgets"], state["reduction_factor"]) == (3, [1, 2], 2.0)
    assert state["request"] == saved["request"]
    runs = state["runs"].values()
    assert sorted(r["rung"] for r in runs) == [0, 0, 0, 1, 1]  # 3 configs at 1 epoch, the best 2 of them at 2
    assert all(r["status"] == "completed" and r["budget"] == r["epochs"] == [1, 2][r["rung"]] for r in runs)

    # the configs an uninterrupted search with these flags draws: the paper point, then seed 3's draws
    from ltsearch.search.prepare import prepare
    from ltsearch.search.study import Study

    space, base = prepare(SearchRequest(method="ce", search="random", epochs=2, seed=3, params=["optim.lr=0.05:0.2"],
                                        fixed=["optim.batch_size=64"], storage_path=str(here / "trials")))
    study = Study.open(f"sqlite:///{here / 'reference.db'}", "ref", space, "random", "random", 3,
                       space.paper_point(base), shared=False, fresh=True)
    expected = dict(study.ask() for _ in range(3))
    assert {r["number"]: r["values"] for r in runs if r["rung"] == 0} == expected
    assert all(0.05 <= v["optim.lr"] <= 0.2 for v in expected.values())
    for rec in runs:  # what each run trained: the fixed knob, the seed and the run's budget
        config = yaml.safe_load((here / "trials" / "rs" / "trials" / rec["id"] / "config.yaml").read_text())
        assert (config["optim"]["batch_size"], config["seed"], config["epochs"]) == (64, 3, rec["budget"])
        assert config["optim"]["lr"] == rec["values"]["optim.lr"]


def _started(work: Path, name: str = "rs", **changes) -> None:
    """The state a search of :data:`STARTED`'s flags writes first (before MLflow, Optuna or Ray)."""
    from ltsearch.search.engine import _open_state
    from ltsearch.search.prepare import prepare
    from ltsearch.search.request import SearchRequest

    req = SearchRequest(method="ce", name=name, search="random", trials=3, epochs=2, seed=3,
                        params=["optim.lr=0.05:0.2"], fixed=["optim.batch_size=64"], rungs=[0.5], reduction_factor=2,
                        storage_path=str(work / "trials"), **changes)
    space, base = prepare(req)
    state = _open_state(req, space, work / "trials" / name, name, "digits-lt-ir10", None, 2)
    state.status = "stopped"
    state.save(work / "trials" / name)


RESUME = ["run", "ce", "--resume", "--name", "rs"]
CONFLICTS = [  # (id, extra flags, what the one line names)
    ("epochs", ["--epochs", "6"], ["started with --epochs 2, not --epochs 6", "drop --epochs"]),
    ("seed-typed-as-its-default", ["--seed", "0"], ["started with --seed 3, not --seed 0", "drop --seed"]),
    ("param", ["--param", "optim.lr=0.01:0.02"],
     ["started with --param optim.lr=0.05:0.2, not --param optim.lr=0.01:0.02", "drop --param"]),
    ("fix-added", ["--fix", "optim.batch_size=64", "--fix", "optim.momentum=0.8"],
     ["--fix optim.batch_size=64, not --fix optim.batch_size=64 --fix optim.momentum=0.8", "drop --fix"]),
    ("rungs", ["--rungs", "0.25"], ["started with --rungs 0.5, not --rungs 0.25", "drop --rungs"]),
    ("scheduler", ["--scheduler", "none"], ["started with --scheduler sh, not --scheduler none"]),
    ("trials", ["--trials", "5"], ["started with --trials 3, not --trials 5"]),
    ("metric-not-given-then", ["--metric", "val/few"], ["started with no --metric, not --metric val/few"]),
    ("dataset", ["--dataset", "cifar10-lt"], ["started with --dataset digits-lt, not --dataset cifar10-lt"]),
]


@pytest.mark.parametrize("extra, needles", [c[1:] for c in CONFLICTS], ids=[c[0] for c in CONFLICTS])
def test_a_flag_that_contradicts_the_saved_one_is_refused_in_one_line_writing_nothing(tmp_path, extra, needles):
    preload()

    def setup(work: Path) -> list[str]:
        _started(work)
        (work / "before.json").write_bytes((work / "trials" / "rs" / STATE_FILE).read_bytes())
        return RESUME + extra

    check_case(("", setup, ["error: --resume: search 'rs' ", *needles, "or start a new search with another --name"]),
               tmp_path)
    work = tmp_path / "work"
    assert (work / "trials" / "rs" / STATE_FILE).read_bytes() == (work / "before.json").read_bytes()


def test_a_rerun_under_the_name_of_an_unfinished_search_is_held_to_its_flags_too(tmp_path):
    """Without --resume, the same name continues the unfinished search (as before): a contradicting flag is
    refused, named as the --name it came with."""
    preload()

    def setup(work: Path) -> list[str]:
        _started(work)
        return ["run", "ce", "--name", "rs", *STARTED[:-1], "3"]  # --reduction-factor 3

    check_case(("", setup, ["error: --name rs: search 'rs' started with --reduction-factor 2, not --reduction-factor 3"]),
               tmp_path)


def test_a_state_saved_before_the_flags_were_recorded_resumes_as_before(ray_session, here, monkeypatch):
    """An old state (no ``request``): resumed from its name alone, its space differs (refused, as before);
    with the flags that started it, it resumes and completes, and stays a state without saved flags."""
    started = ["--trials", "2", "--epochs", "1", "--seed", "5", "--fix", "optim.batch_size=64"]  # sh, one rung
    first = _ltsearch("run", "ce", "--name", "old", *started, "--no-live", fault="ray:1:INT", monkeypatch=monkeypatch)
    assert first.exit_code == 130, first.output
    path = here / "trials" / "old" / STATE_FILE
    data = json.loads(path.read_text())
    assert data.pop("request")["seed"] == 5
    path.write_text(json.dumps(data))  # as ltsearch wrote it before the flags were saved

    alone = _ltsearch("run", "ce", "--resume", "--name", "old", "--no-live", monkeypatch=monkeypatch)
    assert alone.exit_code == 2, alone.output
    assert "error: --resume: search 'old' started with another space (was " in alone.output
    assert "resume with the same --space/--param/--fix/--set/--epochs flags" in alone.output
    assert json.loads(path.read_text())["status"] == "stopped"
    from ltsearch.cli.search_cmds import _how_to_resume
    from ltsearch.search.request import SearchRequest

    assert _how_to_resume(SearchRequest(method="ce"), "old") == "continue with the same flags plus: --name old --resume"

    res = _ltsearch("run", "ce", "--resume", "--name", "old", *started, "--no-live", "--figures", "none",
                    monkeypatch=monkeypatch)
    assert res.exit_code == 0, res.output
    state = json.loads(path.read_text())
    assert state["status"] == "completed" and state["request"] is None
    assert (state["configs"], state["budgets"]) == (2, [1])
    assert sorted(r["status"] for r in state["runs"].values()) == ["completed", "completed"]
    for rec in state["runs"].values():
        config = yaml.safe_load((here / "trials" / "old" / "trials" / rec["id"] / "config.yaml").read_text())
        assert (config["optim"]["batch_size"], config["seed"]) == (64, 5)


def test_resume_without_a_name_takes_the_latest_search_and_its_flags(tmp_path):
    """``--resume`` alone continues the latest search of the method on the dataset: held to its flags too."""
    preload()
    name = "ce-digits-lt-ir10-20260101-000000"  # the default name of a search started without --name

    def setup(work: Path) -> list[str]:
        _started(work, name=name)
        return ["run", "ce", "--resume", "--seed", "0"]

    check_case(("", setup, [f"error: --resume: search '{name}' started with --seed 3, not --seed 0"]), tmp_path)


def test_the_api_takes_the_saved_flags_for_fields_left_at_their_defaults(tmp_path):
    """``run_search(SearchRequest(..., resume=True))``: fields at their defaults take the saved values (the
    engine calls :func:`adopt` with no ``given``); a field set to another value is refused."""
    from ltsearch.errors import LTSearchError
    from ltsearch.search.request import SearchRequest
    from ltsearch.search.resume import adopt
    from ltsearch.search.state import SearchState

    _started(tmp_path)
    state = SearchState.load(tmp_path / "trials" / "rs")
    req = SearchRequest(method="ce", name="rs", resume=True, storage_path=str(tmp_path / "trials"), max_concurrent=1)
    got = adopt(req, state)
    assert (got.search, got.trials, got.epochs, got.seed, got.params, got.fixed, got.rungs, got.reduction_factor) == (
        "random", 3, 2, 3, ["optim.lr=0.05:0.2"], ["optim.batch_size=64"], [0.5], 2.0)
    assert got.max_concurrent == 1  # free: not saved, not taken
    assert adopt(got, state) is got  # nothing left to take
    with pytest.raises(LTSearchError, match="started with --epochs 2, not --epochs 6; drop --epochs"):
        adopt(SearchRequest(method="ce", name="rs", resume=True, epochs=6), state)
    # -r typed as the dataset's own ratio, which the search took without the flag: the same search
    assert adopt(SearchRequest(method="ce", imbalance_ratio=10), state, {"imbalance_ratio"}).imbalance_ratio is None
    with pytest.raises(LTSearchError, match="started with no --imbalance-ratio, not --imbalance-ratio 50"):
        adopt(SearchRequest(method="ce", imbalance_ratio=50), state, {"imbalance_ratio"})
    state.request = None  # an old state: the request as given
    assert adopt(req, state) is req

"""Leaderboard from a small real digits-lt search logged in a temporary sqlite MLflow store
(grid_store.py: a real 2x2 grid search plus three hand-logged trials)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from ltsearch.errors import LTSearchError

from .grid_store import EXPERIMENT, SEARCH, grid_runs, report_app

runner = CliRunner()


def test_ranks_rows_in_metric_order_with_groups_refs_and_markers(store):
    from ltsearch.reports import leaderboard, leaderboard_formats

    board = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])
    assert board.experiment == EXPERIMENT
    ranked = board.ranked
    ids = {r["run_id"] for r in ranked}
    assert store["failed"] not in ids  # failed trials excluded
    assert store["stopped"] in ids  # stopped-early included
    # ranked within each budget (model, epochs, val protocol), never across budgets
    groups = board.groups
    assert {label for label, _ in groups} == {"resnet8, 1 epochs, val test-half", "resnet8, 3 epochs, val test-half",
                                              "resnet8, 1 epochs, val test"}
    assert groups[0][0] == "resnet8, 3 epochs, val test-half"  # the largest budget first
    for _, rows in groups:
        vals = [r["val"] for r in rows]
        assert vals == sorted(vals, reverse=True)
        assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    runs = grid_runs(store)
    assert len(runs) == 4 and {r["run_id"] for r in runs} <= ids
    for t in runs:
        row = next(r for r in ranked if r["run_id"] == t["run_id"])
        assert row["val"] == pytest.approx(t["best"])
        for g in ("acc", "many", "medium", "few"):
            want = t["metrics"].get(f"test/{g}")
            assert row[f"test_{g}"] == (None if want is None else pytest.approx(want))
        assert row["params"]["gamma"] == t["gamma"] and row["params"]["optim.lr"] == t["lr"]
        assert row["search"] == SEARCH and row["epochs"] == 1 and row["kind"] == "trial"
    stopped = next(r for r in ranked if r["run_id"] == store["stopped"])
    assert stopped["val"] == 31.0 and stopped["best_epoch"] == 1 and stopped["epochs"] == 2
    assert stopped["status"] == "stopped" and stopped["test_few"] is None
    on_test = next(r for r in ranked if r["run_id"] == store["on_test"])
    assert on_test["tuned_on_test"] and not stopped["tuned_on_test"]
    # the table shows an empty group as a dash, never 0
    md = leaderboard_formats.to_markdown(board)
    table = leaderboard_formats.parse_markdown_table(md)
    st = next(r for r in table if r["run"] == store["stopped"][:8])
    assert st["few"] == "—" and st["tuned on test"] == ""
    assert next(r for r in table if r["run"] == store["on_test"][:8])["tuned on test"] == "yes"
    # reference rows: the papers' numbers (none for digits: check on the rows of cifar10-lt IR 100)
    refs = leaderboard.reference_rows("cifar10-lt", 100)
    assert refs and all(r["rank"] == "ref" and r["kind"] == "paper" for r in refs)
    assert any(r["method"] == "kps" and r["test_acc"] == 81.23 for r in refs)


def test_reference_rows_are_not_ranked(store, monkeypatch):
    from ltsearch.reports import leaderboard, leaderboard_formats

    fake = [{"method": "kps", "acc": 99.5, "many": 99.0, "medium": 98.0, "few": None, "source": "Paper T1",
             "model": "resnet32"}]
    monkeypatch.setattr(leaderboard, "reported_rows", lambda d, r=None: [dict(x) for x in fake])
    board = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])
    assert board.rows[-1]["kind"] == "paper" and board.rows[-1]["rank"] == "ref"
    assert board.rows[0]["kind"] != "paper" and board.rows[0]["rank"] == 1  # 99.5 is not ranked first
    cells = leaderboard_formats.parse_markdown_table(leaderboard_formats.to_markdown(board))[-1]
    assert cells["rank"] == "ref" and cells["kind"] == "paper" and cells["test"] == "99.50" and cells["few"] == "n/r"


def test_formats_parse_back(store):
    from ltsearch.reports import leaderboard, leaderboard_formats

    board = leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])
    # CSV round trip
    back = leaderboard_formats.read_csv(leaderboard_formats.to_csv(board))
    assert len(back) == len(board.rows)
    for row, rec in zip(board.rows, back):
        assert rec["rank"] == row["rank"] and rec["run_id"] == (row["run_id"] or None)
        for g in leaderboard.GROUPS:
            want = row[f"test_{g}"]
            assert rec[f"test/{g}"] == (None if want is None else pytest.approx(want, abs=0.005))
        assert rec["val/acc"] == pytest.approx(row["val"], abs=0.005)
    # JSON round trip
    data = json.loads(leaderboard_formats.to_json(board))
    assert data["experiment"] == EXPERIMENT and [r["run_id"] for r in data["rows"]] == [r["run_id"] for r in board.rows]
    assert data["rows"][0]["val"] == pytest.approx(board.rows[0]["val"])
    # markdown table: header + one line per row
    table = leaderboard_formats.parse_markdown_table(leaderboard_formats.to_markdown(board))
    assert [t["rank"] for t in table] == [str(r["rank"]) for r in board.rows]
    # deterministic
    assert leaderboard_formats.to_markdown(board) == leaderboard_formats.to_markdown(
        leaderboard.build("digits-lt", 10, tracking_uri=store["uri"]))
    html = leaderboard_formats.to_html(board)
    assert html.count('<tr class="row') == len(board.ranked) and html.count('<tr class="budget"') == len(board.groups)
    assert "<script>" in html and "addEventListener" in html


def test_cli_leaderboard_formats_top_method_and_export(store, tmp_path, monkeypatch):
    app = report_app()
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--imbalance-ratio", "10",
                              "--tracking-uri", store["uri"], "--format", "json", "--top", "2", "--method", "focal"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["rank"] for r in rows] == [1, 2] and all(r["method"] == "focal" for r in rows)
    out = tmp_path / "lb.csv"
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"],
                              "--format", "csv", "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert list(csv.DictReader(io.StringIO(out.read_text())))[0]["rank"] == "1"
    part = tmp_path / "part.md"  # a filtered view says so in its title; an empty one says the filter kept nothing
    res = runner.invoke(app, ["leaderboard", "-d", "digits-lt", "--tracking-uri", store["uri"], "--method", "focal",
                              "-o", str(part)])
    assert res.exit_code == 0 and part.read_text().startswith(f"# Leaderboard: {EXPERIMENT} (--method focal)")
    res = runner.invoke(app, ["leaderboard", "-d", "digits-lt", "--tracking-uri", store["uri"], "--method", "lort"])
    said = " ".join(res.output.split())
    assert res.exit_code == 0 and f"no finished runs of {EXPERIMENT} match --method lort" in said, said
    assert "rows without them" in said and "read another store" not in said
    implied = tmp_path / "by-suffix.csv"  # no --format: the file's suffix says CSV, not Markdown in a .csv
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"], "-o", str(implied)])
    assert res.exit_code == 0 and implied.read_text() == out.read_text(), res.output
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"]])
    assert res.exit_code == 0 and "(tuned on the test set)" in res.stdout and "focal" in res.stdout
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["leaderboard", "--dataset", "digits-lt", "--tracking-uri", store["uri"], "--export"])
    assert res.exit_code == 0, res.output
    md = (tmp_path / "leaderboards" / f"{EXPERIMENT}.md").read_text()
    assert md.startswith(f"# Leaderboard: {EXPERIMENT}")
    assert (tmp_path / "leaderboards" / f"{EXPERIMENT}.csv").is_file()
    res = runner.invoke(app, ["leaderboard", "--dataset", "cifar10-lt", "--tracking-uri", store["uri"],
                              "--format", "markdown"])
    assert res.exit_code == 0 and "81.23" in res.stdout and "ref" in res.stdout  # paper rows with no runs


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_html_opens_in_headless_chromium(store, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    from ltsearch.reports import leaderboard, leaderboard_formats

    page = tmp_path / "lb.html"
    page.write_text(leaderboard_formats.to_html(leaderboard.build("digits-lt", 10, tracking_uri=store["uri"])))
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
           f"--screenshot={shot}", "--window-size=1200,800", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert shot.is_file(), proc.stderr[-2000:]
    img = mpimg.imread(shot)
    assert img.shape[0] == 800 and img.shape[1] == 1200
    rgb = img[..., :3]
    # the table is drawn: the header row's background colour (#f0f3f7) and dark text are on the page
    header = np.all(np.abs(rgb - np.array([0xF0, 0xF3, 0xF7]) / 255) < 0.02, axis=-1)
    assert header.sum() > 2000
    assert (rgb.mean(axis=-1) < 0.3).sum() > 500


def test_one_seed_final_row_shows_its_value_without_a_std():
    """A final run of one seed has no spread to show: no "± 0.00", and "1 seed" in the singular."""
    from ltsearch.reports.fmt import mean_std as _mean_std
    from ltsearch.reports.leaderboard_formats import _kind_text

    assert _mean_std([53.5]) == (53.5, None)
    mean, std = _mean_std([53.0, 54.0])
    assert mean == 53.5 and abs(std - 0.7071) < 1e-4
    assert _kind_text({"kind": "final", "seeds": 1}) == "final (1 seed)"
    assert _kind_text({"kind": "final", "seeds": 3}) == "final (3 seeds)"


def test_tied_trials_rank_in_trial_order_as_the_search_breaks_ties(tmp_path):
    """Six trials of one search with the same best val, recorded last trial first: the board ranks them
    t000..t005, the search's own tie-break (its summary, its parent's best run), not by their random
    MLflow run ids."""
    from ltsearch.reports import leaderboard
    from ltsearch.search.recorder import Recorder
    from ltsearch.search.space import load_space
    from ltsearch.search.state import RunRecord
    from ltsearch.search.trainable import TrialPlan
    from ltsearch.tracking import TAG_STATUS
    from ltsearch.tracking.writer import TrackingWriter, search_tags

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    writer = TrackingWriter(uri)
    space = load_space("bs", dataset="digits-lt")
    plan = TrialPlan(space=space, base_config=space.base_config({"epochs": 4}), trials_dir=str(tmp_path / "trials"))
    rec = Recorder(writer, "digits-lt-ir10", "ties", "bs", plan, 0, "none", "test-half")
    rec.parent_id = writer.create_run(rec.experiment_id, "ties", search_tags("ties", "bs", "digits-lt-ir10"))
    point = space.paper_point(plan.base_config)
    for i in reversed(range(6)):
        rid = rec.run_for(RunRecord(id=f"t{i:03d}", config_id=f"t{i:03d}", number=i, values=point, budget=4))
        writer.log_metrics(rid, {"val/acc": 40.0 + (i == 3)}, step=2)  # t003 peaks higher, then all tie
        writer.log_metrics(rid, {"val/acc": 50.0, "best/val/acc": 50.0, "epochs_run": 4}, step=4)
        writer.set_tags(rid, {TAG_STATUS: "completed"})
        writer.end_run(rid, "FINISHED")
    ranked = leaderboard.build("digits-lt", 10, tracking_uri=uri, search="ties", reference=False).ranked
    assert [(r["rank"], r["trial"], r["val"]) for r in ranked] == [(i + 1, f"t{i:03d}", 50.0) for i in range(6)]
    with pytest.raises(LTSearchError, match=r"--name nosuch: no search of that name in digits-lt-ir10; searches there: ties"):
        leaderboard.build("digits-lt", 10, tracking_uri=uri, search="nosuch")


def test_a_knob_without_effect_in_a_run_is_not_shown_as_if_it_had_one():
    """KPS's ga_start matters only with GA on (its registry's active_when, as in search_spaces/kps.yaml)."""
    from ltsearch.reports.leaderboard import _params_of

    keys = ["method.params.ga", "method.params.ga_start", "optim.lr"]

    def run(ga):
        return {"params": {"method.params.ga": ga, "method.params.ga_start": "0.6", "optim.lr": "0.1"}}

    assert _params_of(run("off"), keys, "kps") == {"ga": "off", "optim.lr": 0.1}
    assert _params_of(run("row"), keys, "kps") == {"ga": "row", "ga_start": 0.6, "optim.lr": 0.1}

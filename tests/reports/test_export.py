"""`ltsearch export` -> `ltsearch train --seeds` -> final runs as mean ± std on the leaderboard."""

from __future__ import annotations

import re

import pytest
import yaml
from typer.testing import CliRunner

from .grid_store import EXPERIMENT, SEARCH, grid_runs, report_app

runner = CliRunner()


def test_export_train_seeds_round_trip(store, tmp_path, monkeypatch):
    import ltsearch.tracking.final as final
    from ltsearch.cli.main import app as main_app
    from ltsearch.config import config_from_dict
    from ltsearch.reports import leaderboard, leaderboard_formats

    best = max(grid_runs(store), key=lambda r: (r["best"], ))
    out = tmp_path / "sub" / "best.yaml"
    res = runner.invoke(report_app(), ["export", "--dataset", "digits-lt", "--tracking-uri", store["uri"],
                                       "-o", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.output  # onto a folder: the one-line error
    res = runner.invoke(report_app(), ["export", "--dataset", "digits-lt", "--method", "focal", "--epochs", "1",
                                       "--tracking-uri", store["uri"], "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("# ltsearch export: focal on digits-lt-ir10")
    data = yaml.safe_load(text)
    prov = data.pop("ltsearch")
    board = leaderboard.build("digits-lt", 10, method="focal", tracking_uri=store["uri"])
    row = board.ranked[0]
    assert prov == {"source_run": row["run_id"], "source_search": SEARCH, "experiment": EXPERIMENT}
    assert row["val"] == pytest.approx(best["best"])
    assert row["run_id"] in text.splitlines()[1]
    cfg = config_from_dict(data)
    assert cfg.method.name == "focal" and cfg.epochs == 1 and cfg.model.name == "resnet8"
    assert cfg.method.params["gamma"] == row["params"]["gamma"] and cfg.optim.lr == row["params"]["optim.lr"]

    # train --seeds: the lead's train command logs through ltsearch.tracking.final.log_final_runs
    import ltsearch.tracking.writer as writer

    monkeypatch.setattr(writer, "log_final_runs", final.log_final_runs, raising=False)
    res = runner.invoke(main_app, ["train", "--config", str(out), "--seeds", "0,1", "--output", str(tmp_path / "tr"),
                                   "--tracking-uri", store["uri"]])
    assert res.exit_code == 0, res.output
    assert "over seeds 0, 1: val/acc " in res.output and " ± " in res.output
    assert "final runs of seeds 0, 1 logged" in res.output
    res = runner.invoke(main_app, ["train", "--config", str(out), "--seeds", "0,1", "--output", str(tmp_path / "tr"),
                                   "--tracking-uri", store["uri"]])  # again: resumed, and said so
    assert res.exit_code == 0 and "seeds 0, 1 of this config and source were logged before" in res.output, res.output
    board = leaderboard.build("digits-lt", 10, method="focal", tracking_uri=store["uri"])
    finals = [r for r in board.ranked if r["kind"] == "final"]
    assert len(finals) == 1
    fin = finals[0]
    assert fin["seeds"] == 2 and fin["source_run"] == row["run_id"] and fin["search"] == SEARCH
    assert fin["val_std"] is not None and fin["test_acc_std"] is not None
    md = leaderboard_formats.to_markdown(board)
    cells = next(c for c in leaderboard_formats.parse_markdown_table(md) if c["kind"].startswith("final"))
    assert cells["kind"] == "final (2 seeds)" and " ± " in cells["test"] and " ± " in cells["val/acc"]
    back = leaderboard_formats.read_csv(leaderboard_formats.to_csv(board))
    rec = next(r for r in back if r["kind"] == "final")
    assert rec["seeds"] == 2 and rec["test/acc std"] == pytest.approx(fin["test_acc_std"], abs=0.005)

    # exporting the final row: the header and the provenance name the same source run, and the mean
    again = tmp_path / "again.yaml"
    res = runner.invoke(report_app(), ["export", "--dataset", "digits-lt", "--method", "focal", "--budget", str(fin["budget_epochs"]),
                                       "--rank", str(fin["rank"]), "--tracking-uri", store["uri"], "-o", str(again)])
    assert res.exit_code == 0, res.output
    head = again.read_text().splitlines()
    assert "(final)" in head[0] and yaml.safe_load(again.read_text())["ltsearch"]["source_run"] == row["run_id"]
    assert head[1].startswith(f"# source run {row['run_id']} of search {SEARCH}; val/acc = {fin['val']:.2f} ± ")
    assert head[1].endswith("the mean of its final runs over 2 seeds")


def test_export_paper_budget_and_errors(store, tmp_path):
    from ltsearch.reports.export import apply_paper_budget

    cfg = {"epochs": 2, "schedule": {"name": "multistep", "warmup_epochs": 0, "milestones": [0.8]},
           "method": {"name": "kps", "params": {"m_max": 0.3}}}
    full = apply_paper_budget(cfg, "kps", "cifar10-lt")
    assert full["epochs"] == 200 and full["schedule"]["milestones"] == [0.8, 0.9]
    assert full["schedule"]["warmup_epochs"] == 5 and full["method"]["params"] == {"m_max": 0.3}
    lort = apply_paper_budget({"epochs": 1, "method": {"name": "lort", "params": {}}}, "lort", "cifar100-lt")
    assert lort["epochs"] > 1

    app = report_app()
    out = tmp_path / "none.yaml"
    res = runner.invoke(app, ["export", "--dataset", "cifar10-lt", "--tracking-uri", store["uri"], "-o", str(out)])
    assert res.exit_code == 2 and "no finished runs for dataset cifar10-lt" in res.output
    assert "ltsearch run" in res.output and "Traceback" not in res.output and not out.exists()
    res = runner.invoke(app, ["export", "--dataset", "digits-lt", "--rank", "99", "--tracking-uri", store["uri"],
                              "-o", str(out)])
    assert res.exit_code == 2 and "--rank 99" in res.output and not out.exists()
    n, noun = re.search(r"has (\d+) (rows?);", res.output).groups()
    assert noun == ("row" if n == "1" else "rows"), res.output  # never "1 rows"
    res = runner.invoke(app, ["export", "--dataset", "digits-lt", "--paper-budget", "--method", "focal",
                              "--tracking-uri", store["uri"], "-o", str(out)])
    assert res.exit_code == 2 and "no paper preset focal/digits-lt" in res.output and not out.exists()


def test_export_of_one_search(store, tmp_path):
    """`--name` ranks among that search's trials only (the `next:` line of a search's summary uses it)."""
    out = tmp_path / "s.yaml"
    res = runner.invoke(report_app(), ["export", "--dataset", "digits-lt", "--name", SEARCH, "--tracking-uri",
                                       store["uri"], "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert yaml.safe_load(out.read_text())["ltsearch"]["source_search"] == SEARCH
    res = runner.invoke(report_app(), ["export", "--dataset", "digits-lt", "--name", "nosuch", "--tracking-uri",
                                       store["uri"], "-o", str(tmp_path / "n.yaml")])
    assert res.exit_code == 2 and "--name nosuch: no search of that name" in res.output
    assert not (tmp_path / "n.yaml").exists()

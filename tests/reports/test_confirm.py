"""`ltsearch confirm`: a search's top configs trained over seeds, ranked by the mean; their final rows on
the leaderboard, linked to their trials."""

from __future__ import annotations

import shutil
import statistics

import yaml
from typer.testing import CliRunner

from .grid_store import SEARCH

runner = CliRunner()


def _copy(store, tmp_path) -> str:
    """A copy of the session's store: the final runs written here must not reach the other report tests."""
    db = tmp_path / "mlflow.db"
    shutil.copy(store["root"] / "mlflow.db", db)
    return f"sqlite:///{db}"


def test_confirm_trains_the_top_configs_over_seeds(store, tmp_path):
    from ltsearch.cli.main import app
    from ltsearch.reports import leaderboard

    uri = _copy(store, tmp_path)
    before = leaderboard.build("digits-lt", 10, tracking_uri=uri, search=SEARCH).groups[0][1]
    top2 = [r for r in before if r["kind"] == "trial"][:2]
    out = tmp_path / "confirm"
    res = runner.invoke(app, ["confirm", "-d", "digits-lt", "--name", SEARCH, "--top", "2", "--seeds", "0,1",
                              "--tracking-uri", uri, "--output", str(out)])
    assert res.exit_code == 0, res.output
    finals = [r for r in leaderboard.build("digits-lt", 10, tracking_uri=uri).ranked if r["kind"] == "final"]
    assert sorted(f["source_run"] for f in finals) == sorted(r["run_id"] for r in top2)
    assert all(f["seeds"] == 2 and f["search"] == SEARCH for f in finals)
    for row in top2:  # each config as `ltsearch export` writes it, with its provenance
        data = yaml.safe_load((out / f"{row['trial']}.yaml").read_text())
        assert data["ltsearch"]["source_run"] == row["run_id"] and data["ltsearch"]["source_search"] == SEARCH
        assert sorted(p.name for p in (out / row["trial"]).iterdir()) == ["seed0", "seed1"]
    best = max(finals, key=lambda f: f["val"])  # the final row's val is the mean over its seeds
    trial = next(r["trial"] for r in top2 if r["run_id"] == best["source_run"])
    assert f"best on the mean: {trial}" in res.output
    means = []
    for f in finals:
        seeds = [yaml.safe_load((out / next(r["trial"] for r in top2 if r["run_id"] == f["source_run"])
                                 / f"seed{s}" / "result.json").read_text())["val/acc"] for s in (0, 1)]
        means.append((statistics.mean(seeds), f["val"]))
    assert all(abs(a - b) < 1e-6 for a, b in means)  # the printed ranking is the leaderboard's mean
    # a rerun resumes the seeds and logs nothing twice: the final rows still average 2 seeds each
    again = runner.invoke(app, ["confirm", "-d", "digits-lt", "--name", SEARCH, "--top", "2", "--seeds", "0,1",
                                "--tracking-uri", uri, "--output", str(out)])
    assert again.exit_code == 0, again.output
    rerun = [r for r in leaderboard.build("digits-lt", 10, tracking_uri=uri).ranked if r["kind"] == "final"]
    assert sorted((f["source_run"], f["seeds"]) for f in rerun) == sorted((f["source_run"], 2) for f in finals)


def test_confirm_bad_input(store, tmp_path):
    from ltsearch.cli.main import app

    uri = _copy(store, tmp_path)
    for args, words in ((["--name", "nope"], ["--name nope", "ltsearch searches"]),
                        (["--name", SEARCH, "--top", "0"], ["--top 0"]),
                        (["--name", SEARCH, "--seeds", "0,0"], ["--seeds"])):
        res = runner.invoke(app, ["confirm", "-d", "digits-lt", *args, "--tracking-uri", uri,
                                  "--output", str(tmp_path / "c")])
        assert res.exit_code == 2 and all(w in res.output for w in words), res.output
        assert "Traceback" not in res.output and not (tmp_path / "c").exists()

"""Heatmaps (and fANOVA importance) of the real digits-lt grid search of grid_store.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from .grid_store import (
    EXPERIMENT,
    GRID_X,
    GRID_Y,
    SEARCH,
    grid_runs,
    report_app,
)

runner = CliRunner()


def test_specs_and_keys():
    from ltsearch.errors import LTSearchError
    from ltsearch.reports.heatmap import parse_axis, parse_spec

    vals, log = parse_spec("1e-4:1e-1:4:log")
    assert vals == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1]) and log
    assert parse_spec("0:1:3") == ([0.0, 0.5, 1.0], False)
    assert parse_spec("column,row,off") == (["column", "row", "off"], False)
    assert parse_spec("0.001,0.01,0.1")[1]  # explicit geometric values are drawn on log axes
    ax = parse_axis("lort", "stage2_lr=1e-4:1e-2:3:log")
    assert ax.key == "method.params.stage2_lr" and ax.log and len(ax.values) == 3
    assert parse_axis("kps", "optim.lr=0.1,0.2").key == "optim.lr"
    for bad in ("m_max=1:2", "m_max=a:b:3", "m_max=-1:1:3:log", "nope=1,2"):
        with pytest.raises(LTSearchError):
            parse_axis("kps", bad)


def test_grid_search_heatmap_png_csv_terminal_and_artifacts(store):
    from mlflow import MlflowClient

    from ltsearch.reports import heatmap as hm

    png = store["png"]
    assert png.is_file() and png.stat().st_size > 5000
    xs, ys, arr = hm.read_csv(png.with_suffix(".csv"))
    assert arr.shape == (len(GRID_Y), len(GRID_X))
    assert [float(x) for x in xs] == list(GRID_X) and [float(y) for y in ys] == list(GRID_Y)
    # each cell is the best val/acc over the epochs of the MLflow run at that grid point
    for run in grid_runs(store):
        i, j = GRID_Y.index(run["lr"]), GRID_X.index(run["gamma"])
        assert arr[i, j] == pytest.approx(run["best"], abs=1e-4)
    for g in ("many", "medium", "few"):  # --groups panels
        assert hm.read_csv(png.with_name(f"{png.stem}-{g}.csv"))[2].shape == arr.shape
    # terminal heatmap printed, best cell starred (every cell scoring the same too: the earliest trial's)
    assert "best val/acc" in store["heatmap_output"] and "optim.lr" in store["heatmap_output"]
    assert "★" in store["heatmap_output"]
    # PNG and CSVs logged to the search's parent run
    client = MlflowClient(tracking_uri=store["uri"])
    exp = client.get_experiment_by_name(EXPERIMENT)
    parent = client.search_runs([exp.experiment_id], f"tags.`ltsearch.kind` = 'search' and "
                                                     f"tags.`ltsearch.search` = '{SEARCH}'")[0]
    names = {f.path for f in client.list_artifacts(parent.info.run_id, "heatmaps")}
    assert f"heatmaps/{png.name}" in names and f"heatmaps/{png.stem}.csv" in names


def test_from_search_pivots_runs_and_marks_the_best_cell(store, tmp_path):
    from ltsearch.reports import heatmap as hm
    from ltsearch.tracking import reader

    out = tmp_path / "again.png"
    res = runner.invoke(report_app(), ["heatmap", "focal", "--dataset", "digits-lt", "--x", "gamma", "--y",
                                       "optim.lr", "--from-search", SEARCH, "--tracking-uri", store["uri"],
                                       "--output", str(out)])
    assert res.exit_code == 0, res.output
    _, _, again = hm.read_csv(out.with_suffix(".csv"))
    _, _, first = hm.read_csv(store["png"].with_suffix(".csv"))
    np.testing.assert_allclose(again, first)
    # the drawing: the array drawn has the grid's shape; the best cell is the grid's maximum
    runs = reader.trial_runs(EXPERIMENT, store["uri"], search=SEARCH)
    grid = hm.grid_from_runs(runs, hm.parse_axis("focal", "gamma"), hm.parse_axis("focal", "optim.lr"),
                             tracking_uri=store["uri"], groups=True)
    shapes = hm.draw_png(grid, tmp_path / "g.png")
    assert set(shapes) == {"val/acc", "val/many", "val/medium", "val/few"}
    assert all(s == (2, 2) for s in shapes.values())
    tied = [tuple(c) for c in np.argwhere(grid.values == np.nanmax(grid.values))]
    assert grid.best_cell() == min(tied, key=lambda c: grid.first[c])  # ties: the earliest trial's cell
    assert grid.values[grid.best_cell()] == np.nanmax(first)


def test_duplicates_are_averaged_and_missing_cells_are_blank():
    from ltsearch.reports import heatmap as hm

    def run(rid, x, y, v):
        return {"run_id": rid, "params": {"method.params.m_max": str(x), "optim.lr": str(y)},
                "metrics": {"best/val/acc": v}}

    runs = [run("a", 0.1, 0.01, 10.0), run("b", 0.1, 0.01, 20.0), run("c", 0.5, 0.1, 40.0)]
    hist = {"val/acc": {}}
    grid = hm.grid_from_runs(runs, hm.parse_axis("kps", "m_max"), hm.parse_axis("kps", "optim.lr"),
                             histories=hist)
    assert grid.values[0, 0] == 15.0 and grid.counts[0, 0] == 2
    assert np.isnan(grid.values[1, 0]) and grid.best_cell() == (1, 1)


def test_importance_of_the_search(store):
    from ltsearch.reports.importance import importance_for_search

    imp, basis = importance_for_search(store["uri"], EXPERIMENT, SEARCH, "val/acc")
    assert set(imp) == {"gamma", "optim.lr"}
    assert sum(imp.values()) == pytest.approx(1.0, abs=1e-6) or all(v == 0 for v in imp.values())
    res = runner.invoke(report_app(), ["importance", "--dataset", "digits-lt", "--name", SEARCH, "--json",
                                       "--tracking-uri", store["uri"]])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["importances"] == pytest.approx(imp) and data["logged_to"]
    assert (data["warning"] is None) == (basis.configs >= 5)
    res = runner.invoke(report_app(), ["importance", "--dataset", "digits-lt", "--name", "nope",
                                       "--tracking-uri", store["uri"]])
    assert res.exit_code == 2 and "nope" in res.output


def test_importance_warns_below_five_configs():
    from ltsearch.reports.importance import Basis

    assert Basis(4, 2, 8).warning == ("only 4 configs at 2 epochs of 8 (too few reached more) share a budget: "
                                      "importances from fewer than 5 configs are not meaningful; search more "
                                      "configs (--trials)")
    assert Basis(5, 8, 8).warning is None

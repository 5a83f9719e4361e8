"""heatmap --from-search with explicit axis values: trials binned around the values (log space for a
log knob), a refusal when no trial falls in a cell, and ties broken by the earliest trial."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from ..helpers import tiny_config
from .grid_store import EXPERIMENT, log_trial, report_app

runner = CliRunner()


def _run(name, m, s, val):
    return {"run_id": f"id-{name}", "run_name": name, "params": {"method.params.m_max": repr(m),
                                                                 "method.params.s_base": repr(s)},
            "metrics": {"best/val/acc": val}}


def _axes(x="m_max=0.2:0.8:3", y="s_base=10,20", log=False):
    from ltsearch.reports import heatmap as hm

    xa, ya = hm.parse_axis("kps", x, "--x"), hm.parse_axis("kps", y, "--y")
    xa.bin_around(xa.log)
    ya.bin_around(log)
    return xa, ya


def test_explicit_values_bin_trials_around_them():
    from ltsearch.reports import heatmap as hm

    runs = [_run("t000", 0.23, 11.0, 50.0), _run("t001", 0.31, 9.0, 60.0), _run("t002", 0.61, 19.5, 70.0),
            _run("t003", 0.74, 14.5, 80.0), _run("t004", 0.99, 15.0, 99.0)]  # m_max 0.99: beyond the last bin
    x, y = _axes()
    grid = hm.grid_from_runs(runs, x, y, histories={"val/acc": {}})
    assert x.labels() == ["0.2", "0.5", "0.8"] and y.labels() == ["10", "20"]
    assert grid.counts.tolist() == [[2, 0, 1], [0, 1, 0]]  # s_base 14.5 < 15: the 10 row (linear)
    assert grid.values[0, 0] == 55.0 and grid.best_cell() == (0, 2)
    x, y = _axes(log=True)  # a log knob: 14.5 > sqrt(10 * 20), so the 20 row
    grid = hm.grid_from_runs(runs, x, y, histories={"val/acc": {}})
    assert grid.counts.tolist() == [[2, 0, 0], [0, 1, 1]] and grid.values[1, 2] == 80.0
    runs[3] = _run("t003", 0.74, 14.0, 80.0)  # 14.0 < sqrt(200) = 14.14: the 10 row
    assert hm.grid_from_runs(runs, *_axes(log=True), histories={"val/acc": {}}).counts[0, 2] == 1


def test_no_trial_in_any_cell_is_refused():
    from ltsearch.errors import LTSearchError
    from ltsearch.reports import heatmap as hm

    with pytest.raises(LTSearchError) as err:
        hm.grid_from_runs([_run("t000", 0.6, 9.0, 50.0)], *_axes("m_max=0.2,0.3"), histories={"val/acc": {}})
    msg = str(err.value)
    assert "\n" not in msg and "none of the 1 trials" in msg and "m_max 0.6" in msg


def test_ties_go_to_the_earliest_trial_and_are_starred():
    from rich.console import Console

    from ltsearch.reports import heatmap as hm

    # every trial scored the same: t000's cell (m_max 0.8, s_base 20) is the best, the last in row-major order
    runs = [_run("t002", 0.2, 10.0, 10.0), _run("t001", 0.5, 10.0, 10.0), _run("t000", 0.8, 20.0, 10.0)]
    grid = hm.grid_from_runs(runs, *_axes(), histories={"val/acc": {}})
    assert grid.best_cell() == (1, 2)
    console = Console(width=160, record=True)
    console.print(hm.rich_heatmap(grid))
    text = console.export_text()
    assert "★" in text and "n=1" in text  # binned: each cell's trial count, as the PNG's n=
    # two cells tie at the top: the one of the earlier trial
    runs = [_run("t000", 0.2, 10.0, 5.0), _run("t001", 0.8, 20.0, 16.8), _run("t002", 0.5, 10.0, 16.8)]
    assert hm.grid_from_runs(runs, *_axes(), histories={"val/acc": {}}).best_cell() == (1, 2)


@pytest.fixture(scope="module")
def search_store(tmp_path_factory):
    """A hand-logged 'kps-b' search (a TPE search's values, s_base searched on a log scale)."""
    from mlflow import MlflowClient

    from ltsearch.tracking import TAG_KIND, TAG_SEARCH
    from ltsearch.tracking.final import ensure_experiment

    root = tmp_path_factory.mktemp("hmsearch")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp_id = ensure_experiment(client, EXPERIMENT, uri)
    parent = client.create_run(exp_id, tags={TAG_KIND: "search", TAG_SEARCH: "kps-b"}, run_name="kps-b").info.run_id
    client.log_param(parent, "space.s_base", "float [8, 32] log")
    for n, (m, s) in enumerate([(0.693, 9.1), (0.24, 14.5), (0.52, 27.0)]):
        rid = log_trial(client, exp_id, parent, "kps-b", tiny_config("kps", epochs=2, m_max=m, s_base=s),
                        {"best/val/acc": 10.0}, [(1, {"val/acc": 10.0})])
        client.set_tag(rid, "mlflow.runName", f"t{n:03d}")
    client.set_terminated(parent, "FINISHED")
    return {"uri": uri, "root": root}


def _heatmap(store, *args):
    return runner.invoke(report_app(), ["heatmap", "kps", "-d", "digits-lt", "--from-search", "kps-b",
                                        "--tracking-uri", store["uri"], *args])


def test_from_search_bins_explicit_values_in_log_space_and_breaks_ties(search_store, tmp_path):
    from ltsearch.reports import heatmap as hm

    out = tmp_path / "h.pdf"  # no --format: the extension chooses
    res = _heatmap(search_store, "--x", "m_max=0.2:0.8:3", "--y", "s_base=10,20", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"%PDF")
    xs, ys, arr = hm.read_csv(out.with_suffix(".csv"))
    assert xs == ["0.2", "0.5", "0.8"] and ys == ["10", "20"]
    # s_base 14.5 is nearer 20 than 10 in log space (the search sampled it on a log scale)
    assert np.isfinite(arr).sum() == 3 and np.isfinite(arr[1, 0]) and np.isfinite(arr[1, 1])
    assert "best val/acc 10.00 at m_max=0.8, s_base=10" in res.output and "★" in res.output  # t000's cell


def test_from_search_with_no_trial_in_a_cell_writes_nothing(search_store, tmp_path):
    out = tmp_path / "sub" / "h.png"
    res = _heatmap(search_store, "--x", "m_max=1.2:1.8:3", "--y", "s_base=10,20", "-o", str(out))
    assert res.exit_code == 2 and "none of the 3 trials falls in a cell" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "sub").exists()


@pytest.mark.parametrize("text, log", [
    ("float [8, 32] log", True),
    ("int [16, 512] log  when ga in ['column', 'row']", True),
    ("float [0.1, 0.8]", False),
    ("one of lin, log", False),  # a categorical whose last choice is `log` samples no scale
    ("one of 8, 16  when mode in ['log']", False),
    ("fixed 'log'", False),
])
def test_searched_log_reads_the_scale_the_search_described(search_store, text, log):
    """`--from-search` bins around given values in log space only for a knob the search sampled on a log
    scale, read from its parent run's `space.<knob>` param (`Dim.describe()`, unchanged in old stores)."""
    from mlflow import MlflowClient

    from ltsearch.reports import heatmap as hm
    from ltsearch.tracking import reader

    knob = f"knob{abs(hash(text)) % 10**8}"
    parent = reader.parent_run(EXPERIMENT, "kps-b", search_store["uri"])
    MlflowClient(tracking_uri=search_store["uri"]).log_param(parent["run_id"], f"space.{knob}", text)
    assert hm.searched_log(EXPERIMENT, "kps-b", f"method.params.{knob}", search_store["uri"]) is log
    assert hm.searched_log(EXPERIMENT, "kps-b", "method.params.not_searched", search_store["uri"]) is False


def test_from_search_of_another_method_is_refused_and_writes_nothing(search_store, tmp_path):
    """`heatmap lort --from-search kps-b` drew kps's trials under the title `lort on ...`: one line, exit 2."""
    out = tmp_path / "sub" / "h.png"
    res = runner.invoke(report_app(), ["heatmap", "lort", "-d", "digits-lt", "--from-search", "kps-b",
                                       "--tracking-uri", search_store["uri"], "--x", "optim.lr", "--y",
                                       "optim.weight_decay", "-o", str(out)])
    assert res.exit_code == 2 and "kps-b is a search of kps, not lort" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "sub").exists()

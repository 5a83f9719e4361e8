"""``ltsearch leaderboard | heatmap | export | importance``: reports over the MLflow store.

Command functions only; ltsearch/cli/main.py mounts them with ``user_errors``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ltsearch.cli.common import (
    DatasetOpt,
    JsonOpt,
    MethodArg,
    MethodFilterOpt,
    MetricOpt,
    RatioOpt,
    SetOpt,
    StoragePathOpt,
    TrackingUriOpt,
    check_metric,
    console,
    print_json,
    user_errors,
)
from ltsearch.errors import LTSearchError
from ltsearch.tracking import resolve_tracking_uri


def _store(uri: str | None) -> str:
    """The MLflow store a report reads: its scheme, a real database, reachable; then resolved."""
    from ltsearch.checks import check_reachable, check_tracking_uri

    check_tracking_uri("--tracking-uri", uri, write=False)
    check_reachable("--tracking-uri", uri or os.environ.get("MLFLOW_TRACKING_URI"))
    return resolve_tracking_uri(uri)

@user_errors
def leaderboard(
    dataset: DatasetOpt,
    imbalance_ratio: RatioOpt = None,
    method: MethodFilterOpt = None,
    top: Annotated[Optional[int], typer.Option("--top", help="show the best N ranked rows of each budget")] = None,
    metric: MetricOpt = "val/acc",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, markdown, csv, html or json")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to this file instead of "
                                                   "stdout (replaced atomically)")] = None,
    export: Annotated[bool, typer.Option("--export", help="write leaderboards/EXPERIMENT.md and .csv")] = False,
    search: Annotated[Optional[str], typer.Option("--name", help="only the trials of the search of this name")] = None,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Rank the finished trials (and final multi-seed runs) of a dataset, with the papers' numbers.

    Examples: ltsearch leaderboard -d cifar10-lt --top 10;
    ltsearch leaderboard -d cifar10-lt --format html -o board.html; ltsearch leaderboard -d cifar10-lt --export
    """
    from ltsearch.reports import leaderboard as lb

    if fmt not in lb.FORMATS:
        raise LTSearchError(f"--format {fmt!r}: choose one of {', '.join(lb.FORMATS)}")
    check_metric(metric)
    if method is not None:
        from ltsearch.methods import METHODS

        METHODS.get(method)
    if top is not None and top < 1:
        raise LTSearchError(f"--top {top}: use a positive number of rows, e.g. --top 10")
    board = lb.build(dataset, imbalance_ratio, method=method, metric=metric, top=top,
                     tracking_uri=_store(tracking_uri), search=search)
    if export:
        for p in lb.export_files(board):
            console.print(f"wrote {p}")
        return
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(lb.render(board, "markdown" if fmt == "table" else fmt))
        console.print(f"wrote {output}")
        return
    if fmt == "table":
        if not board.ranked:
            console.print(f"[yellow]no finished runs in {board.experiment} ({_store(tracking_uri)}); "
                          f"showing the papers' numbers only[/]")
        console.print(lb.to_rich_table(board, console.width))
        return
    typer.echo(lb.render(board, fmt), nl=False)


@user_errors
def export(
    dataset: DatasetOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="YAML file to write, e.g. best.yaml")],
    imbalance_ratio: RatioOpt = None,
    method: Annotated[Optional[str], typer.Option("--method", help="rank among this method's rows only")] = None,
    rank: Annotated[int, typer.Option("--rank", "-k", help="leaderboard rank to export")] = 1,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="epochs of the exported config")] = None,
    paper_budget: Annotated[bool, typer.Option("--paper-budget",
                                               help="epochs and schedule of the paper preset")] = False,
    metric: MetricOpt = "val/acc",
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Write the full trial config of a leaderboard row as YAML for ltsearch train.

    Example: ltsearch export -d cifar10-lt --method kps --paper-budget -o best.yaml, then
    ltsearch train --config best.yaml --seeds 0,1,2
    """
    from ltsearch.reports.export import export_config

    check_metric(metric)
    if epochs is not None and epochs < 1:
        raise LTSearchError(f"--epochs {epochs}: use epochs >= 1")
    info = export_config(dataset, output, imbalance_ratio=imbalance_ratio, method=method, rank=rank,
                         epochs=epochs, paper_budget=paper_budget, metric=metric, tracking_uri=_store(tracking_uri))
    val = "—" if info["value"] is None else f"{info['value']:.2f}"
    console.print(f"wrote {info['output']}: {info['method']} rank {info['rank']} of {info['experiment']} "
                  f"(run {info['run_id'][:8]}, search {info['search'] or '-'}, {metric} {val}, "
                  f"{info['epochs']} epochs)")
    console.print(f"next: ltsearch train --config {info['output']} --seeds 0,1,2")


@user_errors
def importance(
    dataset: DatasetOpt,
    search: Annotated[str, typer.Option("--name", help="the search's name (ltsearch searches lists them)")],
    imbalance_ratio: RatioOpt = None,
    metric: MetricOpt = "val/acc",
    as_json: JsonOpt = False,
    log: Annotated[bool, typer.Option("--log/--no-log", help="log importance.json to the search's parent run")] = True,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """fANOVA importance of each searched parameter (Optuna, from the search's MLflow trials)."""
    from ltsearch.reports.importance import importance_for_search
    from ltsearch.tracking.reader import resolve_experiment

    check_metric(metric)
    uri = _store(tracking_uri)
    experiment = resolve_experiment(dataset, imbalance_ratio, uri)
    imp = importance_for_search(uri, experiment, search, metric)
    parent = None
    if log:
        from ltsearch.tracking.artifacts import log_importance

        parent = log_importance(experiment, search, imp, metric, uri)
    if as_json:
        print_json({"experiment": experiment, "search": search, "metric": metric, "importances": imp,
                    "logged_to": parent})
        return
    from rich.table import Table

    table = Table(title=f"fANOVA importance of {search} ({experiment}, {metric})")
    table.add_column("parameter")
    table.add_column("importance", justify="right")
    table.add_column("")
    for k, v in imp.items():
        table.add_row(k, f"{v:.3f}", "█" * max(1, round(v * 40)) if v > 0 else "")
    console.print(table)
    if parent:
        console.print(f"logged importance.json to run {parent[:8]}")


@user_errors
def heatmap(
    method: MethodArg,
    dataset: DatasetOpt,
    x: Annotated[str, typer.Option("--x", help="PARAM=SPEC, e.g. optim.lr=1e-3:1e-1:5:log or m_max=0.2,0.5 "
                                   "(PARAM alone with --from-search)")],
    y: Annotated[str, typer.Option("--y", help="PARAM=SPEC, e.g. s_base=10,20,30")],
    imbalance_ratio: RatioOpt = None,
    metric: MetricOpt = "val/acc",
    from_search: Annotated[Optional[str], typer.Option("--from-search",
                                                       help="draw the runs of an existing search of this "
                                                            "name instead of running a grid")] = None,
    groups: Annotated[bool, typer.Option("--groups", help="add many / medium / few panels")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="figure file (default "
                                                   "heatmaps/EXPERIMENT-SEARCH-X-Y.png)")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="epochs per grid point")] = None,
    overrides: SetOpt = None,
    name: Annotated[Optional[str], typer.Option("--name", help="the grid search's name (default "
                                                "heatmap-METHOD-X-Y-TIME)")] = None,
    storage_path: StoragePathOpt = Path("trials"),
    num_cpus: Annotated[Optional[int], typer.Option("--num-cpus", help="CPUs of the local Ray")] = None,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Sensitivity heatmap of a metric over two parameters: a figure, a terminal heatmap and CSV.

    Runs the grid through the search engine (Ray Tune), or draws an existing search
    (--from-search NAME; the SPECs are optional there). Example:
    ltsearch heatmap kps -d cifar10-lt --x m_max=0.2:0.8:4 --y s_base=10,20,30 --epochs 20
    """
    from ltsearch.reports import heatmap as hm
    from ltsearch.tracking import reader

    check_metric(metric)
    uri = _store(tracking_uri)
    xa, ya = hm.parse_axis(method, x, "--x"), hm.parse_axis(method, y, "--y")
    if xa.key == ya.key:
        raise LTSearchError(f"--x and --y both set {xa.key}; choose two different parameters")
    if from_search is None:
        if xa.values is None or ya.values is None:
            raise LTSearchError("give values for both axes (PARAM=SPEC) or draw an existing search with --from-search")
        from_search, experiment = _run_grid(method, dataset, imbalance_ratio, xa, ya, metric, epochs,
                                            list(overrides or []), name, uri, storage_path=str(storage_path),
                                            num_cpus=num_cpus)
    else:
        experiment = reader.resolve_experiment(dataset, imbalance_ratio, uri)
    runs = reader.trial_runs(experiment, uri, search=from_search)
    if not runs:
        names = ", ".join(reader.search_names(experiment, uri)) or "none"
        raise LTSearchError(f"--from-search {from_search}: no finished trials in {experiment} ({uri}); "
                            f"searches there: {names}")
    grid = hm.grid_from_runs(runs, xa, ya, metric, groups=groups, tracking_uri=uri)
    png = output or Path("heatmaps") / f"{experiment}-{from_search}-{xa.param}-{ya.param}.png"
    hm.draw_png(grid, png, title=f"{method} on {experiment}: {metric} ({from_search})")
    csvs = hm.csv_paths(png, grid)
    for key, path in csvs.items():
        hm.write_csv(grid, path, key)
    for key in grid.panels:
        console.print(hm.rich_heatmap(grid, key))
    best = grid.best_cell()
    if best is not None:
        i, j = best
        console.print(f"best {metric} {grid.values[i, j]:.2f} at {xa.param}={grid.x.labels()[j]}, "
                      f"{ya.param}={grid.y.labels()[i]} ({grid.counts[i, j]} run(s))")
    from ltsearch.tracking.artifacts import log_to_search

    parent = log_to_search(experiment, from_search, [png, *csvs.values()], "heatmaps", uri)
    console.print(f"wrote {png} and {', '.join(str(p) for p in csvs.values())}"
                  + (f"; logged to run {parent[:8]}" if parent else ""))


def _run_grid(method, dataset, imbalance_ratio, xa, ya, metric, epochs, overrides, name, uri, **request):
    """Run the grid through the search engine; returns (search name, experiment)."""
    try:
        from ltsearch.search.engine import run_search  # noqa: F401
    except ImportError:
        raise LTSearchError("the search engine (ltsearch.search.engine) is not available in this install; "
                            "draw an existing search with --from-search NAME") from None
    from ltsearch.reports.heatmap import run_grid_search

    return run_grid_search(method, dataset, imbalance_ratio, xa, ya, metric, epochs, overrides, name, uri, **request)

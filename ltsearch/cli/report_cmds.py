"""``ltsearch leaderboard | heatmap | export | importance``: reports over the MLflow store.

Command functions only; ``ltsearch/cli/main.py`` mounts them with ``user_errors``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ltsearch.cli.common import console, print_json
from ltsearch.errors import LTSearchError

DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="dataset name, e.g. cifar10-lt")]
RatioOpt = Annotated[Optional[float], typer.Option("--imbalance-ratio", "-r",
                                                   help="imbalance ratio (default: the one with runs)")]
UriOpt = Annotated[Optional[str], typer.Option("--tracking-uri", help="MLflow store (default ./mlflow.db)")]
MetricOpt = Annotated[str, typer.Option("--metric", "-m", help="ranking metric (max over epochs)")]


def _uri(uri: str | None) -> str:
    from ltsearch.checks import check_reachable, check_tracking_uri
    from ltsearch.tracking import default_tracking_uri

    check_tracking_uri("--tracking-uri", uri, write=False)  # a report reads: scheme, a real database, reachable
    check_reachable("--tracking-uri", uri or os.environ.get("MLFLOW_TRACKING_URI"))
    if uri and "://" not in uri and not uri.startswith("sqlite:"):
        p = Path(uri).expanduser().resolve()
        return f"sqlite:///{p}" if p.suffix == ".db" else p.as_uri()
    return uri or default_tracking_uri()


def _check_metric(metric: str) -> None:
    if not metric or metric.startswith("/") or metric.endswith("/"):
        raise LTSearchError(f"--metric {metric!r}: use a logged metric such as val/acc, val/few or test/acc")


def leaderboard(
    dataset: DatasetOpt,
    imbalance_ratio: RatioOpt = None,
    method: Annotated[Optional[str], typer.Option("--method", help="only this method's rows")] = None,
    top: Annotated[Optional[int], typer.Option("--top", "-n", help="show the best N ranked rows")] = None,
    metric: MetricOpt = "val/acc",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | markdown | csv | html | json")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to FILE instead of stdout")] = None,
    export: Annotated[bool, typer.Option("--export", help="write leaderboards/<experiment>.md and .csv")] = False,
    search: Annotated[Optional[str], typer.Option("--search", help="only this search's trials")] = None,
    tracking_uri: UriOpt = None,
) -> None:
    """Rank the finished trials (and final multi-seed runs) of a dataset, with the papers' numbers.

    Examples: ``ltsearch leaderboard --dataset cifar10-lt --top 10``;
    ``ltsearch leaderboard -d cifar10-lt --format html -o lb.html``; ``... --export``.
    """
    from ltsearch import leaderboard as lb

    if fmt not in lb.FORMATS:
        raise LTSearchError(f"--format {fmt!r}: choose one of {', '.join(lb.FORMATS)}")
    _check_metric(metric)
    if method is not None:
        from ltsearch.methods import METHODS

        METHODS.get(method)
    if top is not None and top < 1:
        raise LTSearchError(f"--top {top}: use a positive number of rows")
    board = lb.build(dataset, imbalance_ratio, method=method, metric=metric, top=top,
                     tracking_uri=_uri(tracking_uri), search=search)
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
            console.print(f"[yellow]no finished runs in {board.experiment} ({_uri(tracking_uri)}); "
                          f"showing the papers' numbers only[/]")
        console.print(lb.to_rich_table(board, console.width))
        return
    typer.echo(lb.render(board, fmt), nl=False)


def export(
    dataset: DatasetOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="YAML file to write, e.g. best.yaml")],
    imbalance_ratio: RatioOpt = None,
    method: Annotated[Optional[str], typer.Option("--method", help="best row of this method")] = None,
    rank: Annotated[int, typer.Option("--rank", "-k", help="leaderboard rank to export")] = 1,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="override epochs")] = None,
    paper_budget: Annotated[bool, typer.Option("--paper-budget",
                                               help="epochs and schedule of the paper preset")] = False,
    metric: MetricOpt = "val/acc",
    tracking_uri: UriOpt = None,
) -> None:
    """Write the full trial config of a leaderboard row as YAML for `ltsearch train`.

    Example: ``ltsearch export -d cifar10-lt --method kps --paper-budget -o best.yaml`` then
    ``ltsearch train --config best.yaml --seeds 0,1,2``.
    """
    from ltsearch.export import export_config

    _check_metric(metric)
    if epochs is not None and epochs < 1:
        raise LTSearchError(f"--epochs {epochs}: use epochs >= 1")
    info = export_config(dataset, output, imbalance_ratio=imbalance_ratio, method=method, rank=rank,
                         epochs=epochs, paper_budget=paper_budget, metric=metric, tracking_uri=_uri(tracking_uri))
    val = "—" if info["value"] is None else f"{info['value']:.2f}"
    console.print(f"wrote {info['output']}: {info['method']} rank {info['rank']} of {info['experiment']} "
                  f"(run {info['run_id'][:8]}, search {info['search'] or '-'}, {metric} {val}, "
                  f"{info['epochs']} epochs)")
    console.print(f"next: ltsearch train --config {info['output']} --seeds 0,1,2")


def importance(
    dataset: DatasetOpt,
    search: Annotated[str, typer.Option("--search", "-s", help="search name")],
    imbalance_ratio: RatioOpt = None,
    metric: MetricOpt = "val/acc",
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    log: Annotated[bool, typer.Option("--log/--no-log", help="log importance.json to the search's parent run")] = True,
    tracking_uri: UriOpt = None,
) -> None:
    """fANOVA importance of each searched parameter (Optuna, from the search's MLflow trials)."""
    from ltsearch.importance import importance_for_search
    from ltsearch.tracking.reader import resolve_experiment

    _check_metric(metric)
    uri = _uri(tracking_uri)
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


def heatmap(
    method: Annotated[str, typer.Argument(help="method, e.g. kps")],
    dataset: DatasetOpt,
    x: Annotated[str, typer.Option("--x", help="PARAM=SPEC, e.g. optim.lr=1e-3:1e-1:5:log or m_max=0.2,0.5")],
    y: Annotated[str, typer.Option("--y", help="PARAM=SPEC, e.g. s_base=10,20,30")],
    imbalance_ratio: RatioOpt = None,
    metric: MetricOpt = "val/acc",
    from_search: Annotated[Optional[str], typer.Option("--from-search",
                                                       help="draw from an existing search's runs")] = None,
    groups: Annotated[bool, typer.Option("--groups", help="add many / medium / few panels")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="PNG path")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="epochs per grid point")] = None,
    overrides: Annotated[Optional[list[str]], typer.Option("--set", "-s", help="fixed config key=value")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="search name of the grid run")] = None,
    storage_path: Annotated[Path, typer.Option("--storage-path", help="Ray Tune results folder")] = Path("trials"),
    num_cpus: Annotated[Optional[int], typer.Option("--num-cpus", help="CPUs of a local Ray")] = None,
    tracking_uri: UriOpt = None,
) -> None:
    """Sensitivity heatmap of a metric over two parameters: PNG + terminal heatmap + CSV.

    Runs the grid through the search engine (Ray Tune), or pivots an existing search
    (``--from-search NAME``; SPECs optional there). Example:
    ``ltsearch heatmap kps -d cifar10-lt --x m_max=0.2:0.8:4 --y s_base=10,20,30 --epochs 20``.
    """
    from ltsearch import heatmap as hm
    from ltsearch.tracking import reader

    _check_metric(metric)
    uri = _uri(tracking_uri)
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
    from ltsearch.heatmap import run_grid_search

    return run_grid_search(method, dataset, imbalance_ratio, xa, ya, metric, epochs, overrides, name, uri, **request)

"""``ltsearch leaderboard | heatmap | export | importance | figures | searches | compare``: reports over the MLflow store.

Command functions only (each wrapped by ``user_errors``); ltsearch/cli/main.py mounts them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ltsearch.checks import check_reachable, check_tracking_uri
from ltsearch.cli.common import (
    BudgetOpt,
    DatasetOpt,
    JsonOpt,
    MethodArg,
    MethodFilterOpt,
    MetricOpt,
    RatioOpt,
    SearchNameOpt,
    SetOpt,
    StoragePathOpt,
    TrackingUriOpt,
    check_dataset,
    check_metric,
    console,
    err_console,
    output_format,
    print_json,
    user_errors,
)
from ltsearch.console import count
from ltsearch.errors import LTSearchError
from ltsearch.reports.output import check_target, write_text
from ltsearch.tracking import resolve_tracking_uri, sqlite_path


def _store(uri: str | None, read: bool = True) -> str:
    """The MLflow store a report reads (``read``; a grid run of ``heatmap`` writes it): its scheme, a real
    database, reachable, and a sqlite file named on the command line there when it is only read."""
    check_tracking_uri("--tracking-uri", uri, write=False)
    check_reachable("--tracking-uri", uri or os.environ.get("MLFLOW_TRACKING_URI"))
    resolved = resolve_tracking_uri(uri)
    path = sqlite_path(resolved)
    if read and uri is not None and path is not None and str(path) != ":memory:" and not path.exists():
        # a store named on the command line that is not there is a typo more often than an empty store
        raise LTSearchError(f"--tracking-uri {uri}: no such store ({path} does not exist); check the path (a "
                            f"search writes ./mlflow.db of the folder it ran in by default)")
    return resolved

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
    budget: BudgetOpt = None,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Rank the finished trials (and final multi-seed runs) of a dataset, with the papers' numbers.

    Examples: ltsearch leaderboard -d cifar10-lt --top 10;
    ltsearch leaderboard -d cifar10-lt --format html -o board.html; ltsearch leaderboard -d cifar10-lt --export
    """
    from ltsearch.reports import leaderboard as lb
    from ltsearch.reports import leaderboard_formats as lbf

    if fmt not in lbf.FORMATS:
        raise LTSearchError(f"--format {fmt!r}: choose one of {', '.join(lbf.FORMATS)}")
    check_metric(metric)
    check_dataset(dataset)
    if method is not None:
        from ltsearch.methods import METHODS

        METHODS.get(method)
    if top is not None and top < 1:
        raise LTSearchError(f"--top {top}: use a positive number of rows, e.g. --top 10")
    if export:
        _check_export_flags(output=output, fmt=fmt, method=method, top=top, search=search, budget=budget)
    if output is not None:
        fmt = output_format(output, None if fmt == "table" else fmt, LEADERBOARD_SUFFIXES) or "markdown"
        check_target(output, mkdir=True)
    uri = _store(tracking_uri)
    board = lb.build(dataset, imbalance_ratio, method=method, metric=metric, top=top,
                     tracking_uri=uri, search=search, budget=budget)
    if not board.ranked:  # said on stderr whatever the output (a file, --export, the terminal)
        from ltsearch.tracking.reader import list_experiments

        unfiltered = board.filters and lb.build(dataset, imbalance_ratio, metric=metric, tracking_uri=uri).ranked
        there = ", ".join(list_experiments(uri)) or "none"
        msg = (f"no finished runs of {board.experiment} match {board.filters} in the store {uri} (it has "
               f"{count(len(unfiltered), 'row')} without them)" if unfiltered else
               f"no finished runs of {board.experiment} in the store {uri} (experiments there: {there}); "
               f"read another store with --tracking-uri FILE.db or URI (or MLFLOW_TRACKING_URI)")
        err_console.print(msg + ("; showing the papers' numbers only" if board.reference else ""),
                          style="yellow", markup=False, highlight=False, soft_wrap=True)
    if export:
        for p in lbf.export_files(board):
            console.print(f"wrote {p}")
        return
    if output is not None:
        write_text(output, lbf.render(board, fmt), mkdir=True)
        console.print(f"wrote {output}")
        return
    if fmt == "table":
        console.print(lbf.to_rich_table(board, console.width))
        return
    typer.echo(lbf.render(board, fmt), nl=False)


LEADERBOARD_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".csv": "csv", ".html": "html", ".htm": "html",
                        ".json": "json"}


def _check_export_flags(*, output, fmt: str, **filters) -> None:
    """``--export`` writes the dataset's whole board to leaderboards/ (Markdown and CSV): it takes no
    --output / --format, and no filter that would replace that board by part of it."""
    if output is not None or fmt != "table":
        flag = f"--output {output}" if output is not None else f"--format {fmt}"
        raise LTSearchError(f"--export writes leaderboards/EXPERIMENT.md and .csv, so {flag} has no effect; "
                            f"drop one of them")
    given = [f"--{k if k != 'search' else 'name'} {v}" for k, v in filters.items() if v is not None]
    if given:
        raise LTSearchError(f"--export writes the dataset's whole leaderboard; {', '.join(given)} would replace it "
                            f"by part of it: write that view with -o FILE instead")


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
    budget: Annotated[Optional[int], typer.Option("--budget", help="rank among the rows of this many planned "
                                                  "epochs (default: the largest budget)")] = None,
    search: Annotated[Optional[str], typer.Option("--name", help="rank among this search's trials only")] = None,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Write the full trial config of a leaderboard row as YAML for ltsearch train.

    Example: ltsearch export -d cifar10-lt --method kps --paper-budget -o best.yaml, then
    ltsearch train --config best.yaml --seeds 0,1,2
    """
    from ltsearch.reports.export import export_config

    check_metric(metric)
    check_dataset(dataset)
    if epochs is not None and epochs < 1:
        raise LTSearchError(f"--epochs {epochs}: use epochs >= 1")
    info = export_config(dataset, output, imbalance_ratio=imbalance_ratio, method=method, rank=rank,
                         epochs=epochs, paper_budget=paper_budget, metric=metric, tracking_uri=_store(tracking_uri),
                         budget=budget, search=search)
    val = "—" if info["value"] is None else f"{info['value']:.2f}"
    console.print(f"wrote {info['output']}: {info['method']} rank {info['rank']} of {info['experiment']} "
                  f"(run {info['run_id'][:8]}, search {info['search'] or '-'}, {metric} {val}, "
                  f"{info['epochs']} epochs)")
    console.print(f"next: ltsearch train --config {info['output']} --seeds 0,1,2")


@user_errors
def importance(
    dataset: DatasetOpt,
    search: SearchNameOpt,
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
    check_dataset(dataset)
    uri = _store(tracking_uri)
    experiment = resolve_experiment(dataset, imbalance_ratio, uri)
    imp, basis = importance_for_search(uri, experiment, search, metric)
    warnings = [basis.warning] if basis.warning else []
    if imp and not any(imp.values()):
        warnings.append(f"every config of {basis} scored the same {metric} (or none of the knobs separates them): "
                        f"nothing to attribute, so every importance is 0")
    warning = "; ".join(warnings) or None
    parent = None
    if log:
        from ltsearch.tracking.artifacts import log_importance

        parent = log_importance(experiment, search, imp, metric, uri, str(basis))
    if as_json:
        print_json({"experiment": experiment, "search": search, "metric": metric, "importances": imp,
                    "runs": str(basis), "warning": warning, "logged_to": parent})
        return
    from rich.table import Table

    table = Table(title=f"fANOVA importance of {search} ({experiment}, {metric}; {basis})")
    table.add_column("parameter")
    table.add_column("importance", justify="right")
    table.add_column("")
    for k, v in imp.items():
        table.add_row(k, f"{v:.3f}", "█" * max(1, round(v * 40)) if v > 0 else "")
    console.print(table)
    if warning:
        err_console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False, soft_wrap=True)
    if parent:
        console.print(f"logged importance.json to run {parent[:8]}")


@user_errors
def figures(
    search: SearchNameOpt,
    trial: Annotated[Optional[list[str]], typer.Option("--trial", help="only this run (t003, t003-r1) or "
                                                       "config (t003: all its rungs); repeatable")] = None,
    redraw: Annotated[bool, typer.Option("--redraw", help="draw runs that have their figures again")] = False,
    storage_path: StoragePathOpt = Path("trials"),
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Draw the trial figures a search skipped (--figures auto / best / none) into its MLflow runs."""
    from ltsearch.checks import check_name
    from ltsearch.reports.search_figures import draw_search_figures

    check_name("--name", search)
    uri = _store(tracking_uri)
    drawn = draw_search_figures(Path(storage_path).expanduser() / search, uri, trial, redraw)
    new = [(rid, names) for rid, names in drawn if names]
    for rid, names in new:
        console.print(f"{rid}: {', '.join(names)}")
    console.print(f"{search}: drew the figures of {count(len(new), 'run')}; {count(len(drawn) - len(new), 'other')} "
                  f"already had them or have nothing to draw")


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
                                                            "name instead of running a grid (numeric SPEC "
                                                            "values: cells pool the trials nearest each)")] = None,
    groups: Annotated[bool, typer.Option("--groups", help="add many / medium / few panels")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="figure file (default "
                                                   "heatmaps/EXPERIMENT-SEARCH-X-Y.png)")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", "-e", help="epochs per grid point")] = None,
    overrides: SetOpt = None,
    name: Annotated[Optional[str], typer.Option("--name", help="the grid search's name (default "
                                                "heatmap-METHOD-X-Y-TIME)")] = None,
    storage_path: StoragePathOpt = Path("trials"),
    num_cpus: Annotated[Optional[int], typer.Option("--num-cpus", help="CPUs of the local Ray")] = None,
    no_live: Annotated[bool, typer.Option("--no-live", help="grid run: no live table, one log line per trial "
                                          "event (always so when stderr is not a terminal)")] = False,
    fig_format: Annotated[Optional[str], typer.Option("--format", "-f", help="figure format: png (200 dpi), pdf "
                                                      "or svg (default: --output's extension, else png; the "
                                                      "two must agree)")] = None,
    separate_scales: Annotated[bool, typer.Option("--separate-scales", help="one colour scale per panel "
                                                  "(default: one shared scale, comparable)")] = False,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Sensitivity heatmap of a metric over two parameters: a figure, a terminal heatmap and CSV.

    Runs the grid through the search engine (Ray Tune), or draws an existing search
    (--from-search NAME; the SPECs are optional there). Example:
    ltsearch heatmap kps -d cifar10-lt --x m_max=0.2:0.8:4 --y s_base=10,20,30 --epochs 20
    """
    import sys

    from ltsearch.reports.heatmap_spec import FIGURE_FORMATS, parse_axis

    if from_search is not None:  # flags of a grid run that trains: drawing a search would ignore them
        given = [f for f, on in (("--epochs", epochs is not None), ("--set", overrides), ("--name", name is not None),
                                 ("--num-cpus", num_cpus is not None), ("--no-live", no_live),
                                 ("--storage-path", storage_path != Path("trials"))) if on]
        if given:
            raise LTSearchError(f"--from-search and {', '.join(given)}: {' and '.join(given)} only set a grid run "
                                f"that trains, not the drawing of an existing search; drop {' and '.join(given)} "
                                f"or --from-search")
    check_metric(metric)
    check_dataset(dataset)
    if fig_format is not None and fig_format not in FIGURE_FORMATS:
        raise LTSearchError(f"--format {fig_format!r}: choose one of {', '.join(FIGURE_FORMATS)}")
    fig_format = output_format(output, fig_format, {f".{f}": f for f in FIGURE_FORMATS}) or "png"
    uri = _store(tracking_uri, read=from_search is not None)
    if output is not None:
        check_target(output, mkdir=True)
        if output.suffix.lstrip(".").lower() not in FIGURE_FORMATS:
            output = output.with_name(output.name + f".{fig_format}")
    xa, ya = parse_axis(method, x, "--x"), parse_axis(method, y, "--y")
    if xa.key == ya.key:
        raise LTSearchError(f"--x and --y both set {xa.key}; choose two different parameters")
    from ltsearch.reports import heatmap as hm  # numpy, matplotlib: after the input is checked
    from ltsearch.tracking import reader
    if from_search is None:
        if xa.values is None or ya.values is None:
            raise LTSearchError("give values for both axes (PARAM=SPEC) or draw an existing search with --from-search")
        from_search, experiment = _run_grid(method, dataset, imbalance_ratio, xa, ya, metric, epochs,
                                            list(overrides or []), name, uri, storage_path=str(storage_path),
                                            num_cpus=num_cpus, display=not no_live and sys.stderr.isatty())
    else:
        experiment = reader.resolve_experiment(dataset, imbalance_ratio, uri)
        for a in (xa, ya):  # a search's trials rarely hit the given values: bin them around those
            if a.values is not None:
                a.bin_around(a.log or hm.searched_log(experiment, from_search, a.key, uri))
    runs = hm.full_budget_runs(reader.trial_runs(experiment, uri, search=from_search))
    if not runs:
        names = ", ".join(reader.search_names(experiment, uri)) or "none"
        raise LTSearchError(f"--from-search {from_search}: no finished trials in {experiment} ({uri}); "
                            f"searches there: {names}")
    from ltsearch.tracking import TAG_METHOD

    searched = sorted({r["tags"].get(TAG_METHOD) for r in runs} - {None, method})
    if searched:  # the figure and its title would name METHOD for another method's trials
        raise LTSearchError(f"--from-search {from_search} is a search of {', '.join(searched)}, not {method}: "
                            f"draw it with ltsearch heatmap {searched[0]} ...")
    grid = hm.grid_from_runs(runs, xa, ya, metric, groups=groups, tracking_uri=uri)
    png = output or Path("heatmaps") / f"{experiment}-{from_search}-{xa.param}-{ya.param}.{fig_format}"
    from ltsearch.reports.leaderboard import budget_label, budget_of

    budget = budget_label(budget_of(runs[0]))
    centred = xa.centred or ya.centred
    hm.draw_png(grid, png, title=f"{method} on {experiment}: best/{metric} ({from_search})",
                caption=f"{experiment}; {budget}; {len(runs)} completed full-budget trials"
                        + (f"; binned {'around the given values' if centred else 'values'}, n = trials per cell"
                           if grid.x.edges or grid.y.edges else ""),
                shared_scale=not separate_scales)
    csvs = hm.csv_paths(png, grid)
    for key, path in csvs.items():
        hm.write_csv(grid, path, key)
    for key in grid.panels:
        console.print(hm.rich_heatmap(grid, key))
    best = grid.best_cell()
    if best is not None:
        i, j = best
        console.print(f"best {metric} {grid.values[i, j]:.2f} at {xa.param}={grid.x.labels()[j]}, "
                      f"{ya.param}={grid.y.labels()[i]} ({count(int(grid.counts[i, j]), 'run')})")
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


@user_errors
def searches(
    dataset: Annotated[Optional[str], typer.Option("--dataset", "-d", help="only this dataset's searches")] = None,
    imbalance_ratio: RatioOpt = None,
    metric: MetricOpt = "val/acc",
    as_json: JsonOpt = False,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """List the searches of a store: method, dataset, status, trials, best, epochs consumed, date.

    Example: ltsearch searches -d digits-lt
    """
    from ltsearch.reports.searches import list_searches
    from ltsearch.tracking.reader import resolve_experiment

    check_metric(metric)
    uri = _store(tracking_uri)
    experiment = None
    if dataset is not None:
        check_dataset(dataset)
        experiment = resolve_experiment(dataset, imbalance_ratio, uri)
    rows = list_searches(uri, experiment, metric)
    if as_json:
        print_json({"store": uri, "searches": rows})
        return
    if not rows:
        others = sorted({r["experiment"] for r in list_searches(uri, None, metric)}) if experiment else []
        msg = (f"no searches of {experiment} in the store {uri} (searches there are of {', '.join(others)}); drop "
               f"--dataset to list them" if others else
               f"no searches in the store {uri}; read another with --tracking-uri FILE.db or URI (or MLFLOW_TRACKING_URI)")
        err_console.print(msg, style="yellow", markup=False, highlight=False, soft_wrap=True)
        return
    print_searches(console.real(), rows, uri, metric)


def print_searches(out, rows: list[dict], uri: str, metric: str) -> None:
    """The searches as a table where it fits ``out``'s width; else one block of lines per search (a
    narrow terminal): a value is never cut to ``24…`` nor a name folded."""
    from rich.table import Table

    from ltsearch.reports.fmt import fmt_float

    cols = ("name", "method", "dataset", "status", "completed", "stopped", "failed", f"best {metric}",
            "epochs consumed", "date")
    table = Table(title=f"searches in {uri}", title_justify="left")
    for col in cols:
        table.add_column(col, justify="right" if col in ("completed", "stopped", "failed", "epochs consumed")
                         or col.startswith("best") else "left", no_wrap=True)
    cells = [(r["name"], r["method"], r["experiment"], r["status"], str(r["completed"]), str(r["stopped"]),
              str(r["failed"]), fmt_float(r["best"]), "" if r["epochs_consumed"] is None
              else str(r["epochs_consumed"]), r["date"]) for r in rows]
    for c in cells:
        table.add_row(*c)
    if out.measure(table, options=out.options.update_width(10_000)).maximum <= out.width:
        out.print(table)
        return
    say = {"markup": False, "highlight": False, "soft_wrap": True}
    out.print(f"searches in {uri}", **say)
    for c in cells:
        name, method, experiment, status, done, stopped, failed, best, consumed, date = c
        out.print(f"{name}: {method} on {experiment}, {status}, {date}", **say)
        out.print(f"  {done} completed, {stopped} stopped, {failed} failed; best {metric} {best}; epochs consumed "
                  f"{consumed or '-'}", **say)


def _run_label(run: dict | None) -> str:
    """A run's short id, and for a final run its seed: the leaderboard's final row is the mean over seeds."""
    from ltsearch.tracking import TAG_KIND

    if not run:
        return ""
    if run["tags"].get(TAG_KIND) == "final":
        return f"{run['run_id'][:8]} (final run, seed {run['params'].get('seed', '?')}; the leaderboard shows the seeds' mean)"
    return run["run_id"][:8]


@user_errors
def compare(
    a: Annotated[str, typer.Argument(help="a search name or a run id", show_default=False)],
    b: Annotated[str, typer.Argument(help="a search name or a run id", show_default=False)],
    metric: MetricOpt = "val/acc",
    as_json: JsonOpt = False,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Two searches (their summaries and best configs) or two runs side by side, with the config diff.

    Example: ltsearch compare kps-c10 kps-c10-sh
    """
    from ltsearch.reports.fmt import fmt_float, fmt_value, objective, short_key
    from ltsearch.reports.leaderboard import budget_label, budget_of
    from ltsearch.reports.searches import config_diff, find

    check_metric(metric)
    uri = _store(tracking_uri)
    (ka, sa, ra), (kb, sb, rb) = find(uri, a, metric), find(uri, b, metric)
    diff = config_diff((ra or {}).get("params", {}), (rb or {}).get("params", {}))
    budgets = [budget_of(r) if r else None for r in (ra, rb)]
    if as_json:
        print_json({"a": {"kind": ka, "summary": sa if ka == "search" else None, "run": (ra or {}).get("run_id"),
                          "budget": budgets[0]},
                    "b": {"kind": kb, "summary": sb if kb == "search" else None, "run": (rb or {}).get("run_id"),
                          "budget": budgets[1]},
                    "config_diff": [{"key": k, "a": x, "b": y} for k, x, y in diff]})
        return
    from rich.table import Table

    table = Table(title=f"{a} vs {b}", title_justify="left")
    table.add_column("")
    table.add_column(a)
    table.add_column(b)
    if ka == "search" and kb == "search":
        for key in ("method", "experiment", "status", "completed", "stopped", "failed", "epochs_consumed", "date"):
            table.add_row(key.replace("_", " "), str(sa[key] if sa[key] is not None else ""),
                          str(sb[key] if sb[key] is not None else ""))
    table.add_row(f"best/{metric}", fmt_float(objective(ra, metric)[0]) if ra else "",
                  fmt_float(objective(rb, metric)[0]) if rb else "")
    table.add_row("run", _run_label(ra), _run_label(rb))
    table.add_row("budget", *(budget_label(x) if x else "" for x in budgets))
    table.add_section()
    for k, x, y in diff:
        table.add_row(short_key(k), fmt_value(x, 4), fmt_value(y, 4))
    if not diff:
        table.add_row("config", "the same", "the same")
    console.print(table)
    if all(budgets) and budgets[0] != budgets[1]:  # as the leaderboard, which never ranks them together
        err_console.print(f"note: the two runs have different budgets ({budget_label(budgets[0])}; "
                          f"{budget_label(budgets[1])}), so their best/{metric} are not comparable; compare runs "
                          f"of one budget", style="yellow", markup=False, highlight=False, soft_wrap=True)

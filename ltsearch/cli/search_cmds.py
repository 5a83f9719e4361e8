"""``ltsearch run METHOD`` and ``ltsearch spaces list|show|new`` (heavy imports inside)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ltsearch.errors import LTSearchError


def _one_line_errors(fn):
    """LTSearchError -> one line on stderr, exit code 2 (also when mounted without cli.common)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LTSearchError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(code=LTSearchError.exit_code)

    return wrapper


@_one_line_errors
def run(
    method: str = typer.Argument(..., help="method to search: kps, lort, lwr, ce, focal, ldam-drw, bs, la, cb"),
    dataset: str = typer.Option("digits-lt", "--dataset", "-d", help="dataset name (ltsearch datasets list)"),
    imbalance_ratio: Optional[float] = typer.Option(None, "--imbalance-ratio", "--ir", help="n_max / n_min"),
    data_root: Optional[Path] = typer.Option(None, "--data-root", help="dataset folder"),
    val: str = typer.Option("split", "--val", help="split: tune on a validation split (honest); test: papers'"),
    space: Optional[Path] = typer.Option(None, "--space", help="search-space YAML (default search_spaces/METHOD.yaml)"),
    trials: Optional[int] = typer.Option(None, "--trials", "-n", help="number of trials (tpe / random; default 8)"),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="epochs per trial (stage 1 for LORT)"),
    search: str = typer.Option("tpe", "--search", help="tpe | random | grid"),
    grid_points: int = typer.Option(3, "--grid-points", help="grid: points per numeric range"),
    scheduler: str = typer.Option("asha", "--scheduler", help="asha | sh (successive halving over complete schedules) | none"),
    grace_period: int = typer.Option(1, "--grace-period", help="ASHA: epochs before a trial may be stopped"),
    reduction_factor: float = typer.Option(2.0, "--reduction-factor", help="ASHA / sh: keep 1 in this many at each rung"),
    rungs: Optional[str] = typer.Option(None, "--rungs", help="sh: lower rung budgets, epochs or fractions of the "
                                        "run, e.g. 0.25,0.5 (default: --grace-period x --reduction-factor^k)"),
    brackets: int = typer.Option(1, "--brackets", help="sh: run the configs in this many consecutive groups "
                                 "(TPE learns from each group before the next)"),
    metric: Optional[str] = typer.Option(None, "--metric", help="metric to maximise (val/acc, val/few, ...)"),
    gpus_per_trial: Optional[float] = typer.Option(None, "--gpus-per-trial", help="fractional GPUs (default 0.5 "
                                                   "with GPUs, else 0)"),
    cpus_per_trial: float = typer.Option(1.0, "--cpus-per-trial", help="CPUs per trial"),
    max_concurrent: Optional[int] = typer.Option(None, "--max-concurrent", help="trials at once"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="existing Ray cluster (or RAY_ADDRESS)"),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help="MLflow store (default "
                                               "MLFLOW_TRACKING_URI or sqlite:///./mlflow.db)"),
    optuna_storage: Optional[str] = typer.Option(None, "--optuna-storage", help="Optuna study storage URL "
                                                 "(default optuna.db beside the MLflow store)"),
    name: Optional[str] = typer.Option(None, "--name", help="search name (default METHOD-DATASET-TIME)"),
    study: Optional[str] = typer.Option(None, "--study", help="Optuna study shared with other drivers "
                                        "(default: one of its own, named --name)"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted search of this --name"),
    seed: int = typer.Option(0, "--seed", help="sampler and trial seed"),
    retries: int = typer.Option(0, "--retries", help="re-run a failed trial (crash, lost worker) up to N times"),
    param: List[str] = typer.Option([], "--param", help="NAME=LOW:HIGH[:log] or NAME=a,b,c (optim.lr=...)"),
    fix: List[str] = typer.Option([], "--fix", help="NAME=VALUE: fix a knob"),
    set_: List[str] = typer.Option([], "--set", help="trial-config override, e.g. model.name=resnet20"),
    storage_path: Path = typer.Option(Path("trials"), "--storage-path", help="folder of the Tune experiments"),
    no_live: bool = typer.Option(False, "--no-live", help="no live table (logs only)"),
) -> None:
    """Search METHOD's hyperparameters with Ray Tune + Optuna, log every trial to MLflow."""
    from ltsearch.search.request import SearchRequest, check_request

    if search == "grid" and trials is not None:
        raise LTSearchError(f"--search grid runs every grid point, so --trials {trials} has no effect; drop "
                            f"--trials (size the grid with --grid-points or --param NAME=a,b,c)")
    req = SearchRequest(
        method=method, dataset=dataset, imbalance_ratio=imbalance_ratio,
        data_root=str(data_root) if data_root else None, val=val, space=space, trials=8 if trials is None else trials, epochs=epochs,
        search=search, grid_points=grid_points, scheduler=scheduler, grace_period=grace_period,
        reduction_factor=reduction_factor, brackets=brackets, rungs=_floats(rungs, "--rungs"), metric=metric, gpus_per_trial=gpus_per_trial,
        cpus_per_trial=cpus_per_trial, max_concurrent=max_concurrent, ray_address=ray_address,
        tracking_uri=tracking_uri, optuna_storage=optuna_storage, name=name, study=study, resume=resume, seed=seed, retries=retries,
        params=list(param), fixed=list(fix), sets=list(set_), storage_path=storage_path,
        display=not no_live and sys.stderr.isatty())
    check_request(req)  # every flag before torch / ray / mlflow are imported: the error comes at once
    from ltsearch.search.engine import run_search
    from ltsearch.search.progress import print_summary

    try:
        result = run_search(req)
    except KeyboardInterrupt as err:
        started = err.args[0] if err.args and isinstance(err.args[0], str) else req.name or "<name>"
        typer.echo(f"interrupted; finished trials are saved; continue with the same flags plus: "
                   f"--name {started} --resume", err=True)
        raise typer.Exit(code=getattr(err, "exit_code", 130))
    print_summary(result)
    failed = [t for t in result.trials if t.status == "failed"]
    if result.trials and len(failed) == len(result.trials):
        reason = failed[0].failure or "unknown error"
        user = "LTSearchError" in reason
        typer.echo(f"error: all {len(failed)} trials failed; first reason: {reason}; "
                   + ("fix the input named above" if user else
                      "check the ranges (e.g. a lower --param optim.lr) or run one config with ltsearch train"),
                   err=True)
        raise typer.Exit(code=2 if user else 1)


def _floats(text: str | None, flag: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise LTSearchError(f"{flag} {text!r} is invalid; give numbers separated by commas, e.g. {flag} 0.25,0.5") from None


spaces_app = typer.Typer(help="Search spaces: list, show, new.", no_args_is_help=True)


@spaces_app.command("list")
@_one_line_errors
def spaces_list() -> None:
    """Every method and its search-space file."""
    from rich.console import Console
    from rich.table import Table

    from ltsearch.search.space import list_spaces, load_space

    t = Table(title="search spaces", title_justify="left")
    for col in ("method", "file", "searched", "fixed"):
        t.add_column(col)
    for method, path in list_spaces():
        try:
            sp = load_space(method, path=path)
            searched = ", ".join(d.name for d in sp.searched)
            fixed = ", ".join(d.name for d in sp.fixed)
        except LTSearchError as err:
            searched, fixed = f"[red]{err}[/]", ""
        t.add_row(method, str(path) if path else "(generated)", searched, fixed)
    Console().print(t)


@spaces_app.command("show")
@_one_line_errors
def spaces_show(
    method: str = typer.Argument(..., help="method name"),
    dataset: str = typer.Option("digits-lt", "--dataset", "-d", help="apply this dataset's overlay"),
    space: Optional[Path] = typer.Option(None, "--space", help="a space file instead of the built-in one"),
    param: List[str] = typer.Option([], "--param", help="NAME=LOW:HIGH[:log] or NAME=a,b,c"),
    fix: List[str] = typer.Option([], "--fix", help="NAME=VALUE"),
    as_yaml: bool = typer.Option(False, "--yaml", help="print the resolved space as YAML"),
) -> None:
    """The resolved space of METHOD on a dataset: ranges, conditions, paper point, base config."""
    from rich.console import Console
    from rich.table import Table

    from ltsearch.search.space import load_space

    sp = load_space(method, path=space, dataset=dataset, params=param, fixed=fix)
    if as_yaml:
        sys.stdout.write(sp.to_yaml())
        return
    base = sp.base_config()
    point = sp.paper_point(base)
    t = Table(title=f"{sp.method} on {sp.dataset} ({sp.source}), metric {sp.metric} ({sp.mode})",
              title_justify="left")
    for col in ("parameter", "values", "paper", "help"):
        t.add_column(col)
    for d in sp.dims:
        paper = point.get(d.name, "-" if d.searched else d.value)
        t.add_row(d.name, d.describe(), str(paper), d.help)
    console = Console()
    console.print(t)
    if sp.base:
        from ltsearch.config import dump_yaml

        console.print("[bold]base config overrides[/]:")
        console.print(dump_yaml(sp.base), markup=False, highlight=False)


@spaces_app.command("new")
@_one_line_errors
def spaces_new(method: str = typer.Argument(..., help="method name")) -> None:
    """Print a space file to start from: ``ltsearch spaces new kps > mine.yaml``."""
    from ltsearch.search.space import space_template

    sys.stdout.write(space_template(method))

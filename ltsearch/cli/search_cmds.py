"""``ltsearch run METHOD`` and ``ltsearch spaces list|show|new`` (heavy imports inside)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from ltsearch.cli.common import (
    DataRootOpt,
    DatasetOpt,
    EpochsOpt,
    MethodArg,
    RatioOpt,
    SetOpt,
    StoragePathOpt,
    TrackingUriOpt,
    TrialsOpt,
    ValOpt,
    check_dataset,
    console,
    err_console,
    holds_signals,
    new_app,
    user_errors,
)
from ltsearch.config import DEFAULT_DATASET, dump_yaml
from ltsearch.errors import LTSearchError


@user_errors
@holds_signals  # a signal while the checks run stops the search before it writes anything
def run(
    ctx: typer.Context,
    method: MethodArg,
    dataset: DatasetOpt = DEFAULT_DATASET,
    imbalance_ratio: RatioOpt = None,
    data_root: DataRootOpt = None,
    val: ValOpt = "split",
    space: Annotated[Optional[Path], typer.Option("--space", help="search-space YAML (default: the built-in "
                                                  "space of METHOD; ltsearch spaces list)")] = None,
    trials: TrialsOpt = None,
    epochs: EpochsOpt = None,
    search: Annotated[str, typer.Option("--search", help="how to sample: tpe, random or grid")] = "tpe",
    grid_points: Annotated[int, typer.Option("--grid-points", help="grid: points per numeric range")] = 3,
    scheduler: Annotated[str, typer.Option("--scheduler", help="early stopping: sh (successive halving over "
                                           "complete schedules, the default), asha or none")] = "sh",
    grace_period: Annotated[int, typer.Option("--grace-period", help="asha: epochs before a trial may be "
                                              "stopped")] = 1,
    reduction_factor: Annotated[Optional[float], typer.Option("--reduction-factor", help="asha / sh: keep 1 in "
                                                              "this many trials at each rung (default: sh 4, "
                                                              "asha 3)")] = None,
    rungs: Annotated[Optional[str], typer.Option("--rungs", help="sh: the lower rungs' budgets, in epochs or as "
                                                 "fractions of the run (default 0.25: one rung at 1/4)")] = None,
    brackets: Annotated[int, typer.Option("--brackets", help="sh: run the configs in this many consecutive "
                                          "groups; TPE learns from each group before the next")] = 1,
    metric: Annotated[Optional[str], typer.Option("--metric", "-m", help="the search metric (default: the "
                                                  "space's, val/acc); a trial scores its best epoch")] = None,
    gpus_per_trial: Annotated[Optional[float], typer.Option(
        "--gpus-per-trial", help="GPUs per trial, fractions allowed (default by model: 0.25 for CIFAR "
        "ResNets, 0.5 for ResNet-34, 1 for ImageNet models; 0 on a machine without GPUs)")] = None,
    cpus_per_trial: Annotated[float, typer.Option("--cpus-per-trial", help="CPUs per trial")] = 1.0,
    max_concurrent: Annotated[Optional[int], typer.Option("--max-concurrent", help="trials at once "
                                                          "(default: as many as the resources allow)")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="a running Ray cluster, "
                                                       "host:port (default: RAY_ADDRESS, else a local Ray)")] = None,
    tracking_uri: TrackingUriOpt = None,
    optuna_storage: Annotated[Optional[str], typer.Option("--optuna-storage", help="Optuna study storage URL "
                                                          "(default: optuna.db beside the MLflow store)")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="the search's name (default "
                                                "METHOD-EXPERIMENT-TIME)")] = None,
    study: Annotated[Optional[str], typer.Option("--study", help="an Optuna study shared with other drivers "
                                                 "(default: one of its own, named as the search)")] = None,
    warm_start: Annotated[Optional[list[str]], typer.Option("--warm-start", help="start TPE from the finished "
                          "trials of an earlier search of the same method and metric (its --name; repeatable); "
                          "values outside this search's ranges are left out")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue an interrupted search of this --name")] = False,
    seed: Annotated[int, typer.Option("--seed", help="sampler and trial seed")] = 0,
    retries: Annotated[int, typer.Option("--retries", help="re-run a failed trial (crash, lost worker) up to "
                                         "this many times")] = 0,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="search a knob: NAME=LOW:HIGH[:log] or "
                                                       "NAME=a,b,c, e.g. --param optim.lr=0.01:0.2:log")] = None,
    fix: Annotated[Optional[list[str]], typer.Option("--fix", help="fix a knob: NAME=VALUE")] = None,
    set_: SetOpt = None,
    storage_path: StoragePathOpt = Path("trials"),
    no_live: Annotated[bool, typer.Option("--no-live", help="no live table, one log line per trial event")] = False,
    figures: Annotated[str, typer.Option("--figures", help="whose PNG figures (learning curves, per-class "
                                         "accuracy, confusion; about 2 s of CPU each): all, as each trial "
                                         "finishes; best, the best run's at the end; auto, all when the trials "
                                         "leave a CPU free, else best; none. `ltsearch figures` draws the rest "
                                         "later")] = "auto",
    no_figures: Annotated[bool, typer.Option("--no-figures", hidden=True, help="= --figures none")] = False,
) -> None:
    """Search METHOD's hyperparameters with Ray Tune + Optuna, log every trial to MLflow."""
    from ltsearch.search.request import SearchRequest, check_request

    if search == "grid" and trials is not None:
        raise LTSearchError(f"--search grid runs every grid point, so --trials {trials} has no effect; drop "
                            f"--trials (size the grid with --grid-points or --param NAME=a,b,c)")
    req = SearchRequest(
        method=method, dataset=dataset, imbalance_ratio=imbalance_ratio,
        data_root=str(data_root) if data_root else None, val=val, space=space,
        trials=8 if trials is None else trials, epochs=epochs, search=search, grid_points=grid_points,
        scheduler=scheduler, grace_period=grace_period,
        reduction_factor=reduction_factor,
        brackets=brackets, rungs=_floats(rungs, "--rungs"), metric=metric, gpus_per_trial=gpus_per_trial,
        cpus_per_trial=cpus_per_trial, max_concurrent=max_concurrent, ray_address=ray_address,
        tracking_uri=tracking_uri, optuna_storage=optuna_storage, name=name, study=study,
        warm_start=list(warm_start or []), resume=resume, seed=seed, retries=retries,
        params=list(param or []), fixed=list(fix or []), sets=list(set_ or []), storage_path=storage_path,
        display=not no_live and sys.stderr.isatty(), figures="none" if no_figures else figures)
    req = resumed(req, _typed(ctx))  # a search resumed takes the flags it started with
    check_request(req)  # every flag before torch / ray / mlflow are imported: the error comes at once
    check_before_work(req)
    from ltsearch.search.engine import run_search
    from ltsearch.search.progress import print_summary

    try:
        result = run_search(req)
    except KeyboardInterrupt as err:
        started = err.args[0] if err.args and isinstance(err.args[0], str) else req.name or "<name>"
        err_console.print(f"interrupted; finished trials are saved; {_how_to_resume(req, started)}"
                          if getattr(err, "saved", True) else
                          "interrupted before the search started: nothing was written; rerun the command",
                          markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=getattr(err, "exit_code", 130))
    print_summary(result)
    failed = [t for t in result.trials if t.status == "failed"]
    if result.trials and len(failed) == len(result.trials):
        reason = failed[0].failure or "unknown error"
        user = "LTSearchError" in reason
        err_console.print(f"error: all {len(failed)} trials failed; first reason: {reason}; "
                          + ("fix the input named above" if user else
                             "check the ranges (e.g. a lower --param optim.lr) or run one config with ltsearch train"),
                          markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2 if user else 1)


# run()'s parameter names where they differ from their SearchRequest field (ltsearch.search.resume.SHAPING)
PARAM_OF = {"params": "param", "fixed": "fix", "sets": "set_"}


def _typed(ctx: typer.Context) -> set[str]:
    """The SearchRequest fields whose flags the command line gives (a flag typed with its default
    value counts: it is the user's word), as Click records where each parameter's value came from."""
    from ltsearch.search.resume import SHAPING

    given = ("COMMANDLINE", "ENVIRONMENT", "PROMPT")  # by name: typer may carry its own copy of Click's enum
    return {field for field, flag in SHAPING.items() if flag.startswith("--")  # the others: the API's only
            and getattr(ctx.get_parameter_source(PARAM_OF.get(field, field)), "name", None) in given}


def resumed(req, given: set[str]):
    """``req`` with the saved flags of the search it resumes (``--resume``, or a rerun of an unfinished
    search under its ``--name``) where the command line does not give them; a flag given with another
    value than the saved one is refused (:func:`ltsearch.search.resume.adopt`). Without ``--name``,
    ``--resume`` takes the latest search of METHOD on the dataset, as the engine does."""
    from ltsearch.search.resume import adopt, saved_state

    if req.resume and req.name is None:
        req = replace(req, name=_latest(req))
    return adopt(req, saved_state(req), given)


def _latest(req) -> str | None:
    """The search ``--resume`` without ``--name`` continues (None: none; the engine says so)."""
    from ltsearch.search.prepare import prepare
    from ltsearch.search.resume import latest_search
    from ltsearch.tracking import experiment_name

    check_dataset(req.dataset)
    try:
        space, base = prepare(req)
    except LTSearchError as err:
        raise _blame_param(req, err) from None
    experiment = experiment_name(space.dataset, base["dataset"].get("imbalance_ratio"))
    return latest_search(Path(req.storage_path).expanduser().resolve(), f"{req.method}-{experiment}")


def _how_to_resume(req, name: str) -> str:
    """The command that continues the stopped search ``name``: its name alone (it keeps the flags it started
    with), plus where it is stored; a search whose state predates the saved flags needs them all again."""
    from ltsearch.search.state import SearchState

    try:
        state = SearchState.load(Path(req.storage_path).expanduser() / name)
    except LTSearchError:
        state = None
    if state is not None and state.request is None:
        return f"continue with the same flags plus: --name {name} --resume"
    where = " (with the same --storage-path / --tracking-uri / --optuna-storage)" if (
        Path(req.storage_path) != Path("trials") or req.tracking_uri or req.optuna_storage) else ""
    return f"continue with: ltsearch run {req.method} --name {name} --resume{where}"


def _floats(text: str | None, flag: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise LTSearchError(f"{flag} {text!r} is invalid; give numbers separated by commas, e.g. {flag} 0.25,0.5") from None


def check_before_work(req) -> None:
    """Every check that needs no Ray / MLflow / torch, so a bad input is answered at once: the
    request's flags, the space with --param / --fix, the base config with --set, the dataset."""
    from ltsearch.search.prepare import prepare

    check_dataset(req.dataset)
    try:
        prepare(req)
    except LTSearchError as err:
        raise _blame_param(req, err) from None
    if req.resume and req.name is not None and not (Path(req.storage_path).expanduser() / req.name).is_dir():
        raise LTSearchError(f"--resume: no search named '{req.name}' under {Path(req.storage_path).expanduser().resolve()}; "
                            f"check --name and --storage-path")


def _blame_param(req, err: LTSearchError) -> LTSearchError:
    """A space error caused by one --param / --fix value, re-worded to name that flag."""
    from ltsearch.search.prepare import prepare

    given = [("--param", p) for p in req.params] + [("--fix", f) for f in req.fixed]
    if not given:
        return err
    try:
        prepare(replace(req, params=[], fixed=[]))
    except LTSearchError:
        return err  # the space file itself is at fault
    for flag, value in given:
        try:
            prepare(replace(req, params=[value] if flag == "--param" else [],
                            fixed=[value] if flag == "--fix" else []))
        except LTSearchError as one:
            text = str(one)
            if text.startswith(flag):
                return one
            head, sep, rest = text.partition(": ")
            if sep and (head.endswith(".yaml") or "/" in head):
                text = rest  # drop the space file's name: the value came from the command line
            return LTSearchError(f"{flag} {value}: {text}")
    return err


spaces_app = new_app(help="Search spaces: list, show, new.", no_args_is_help=True)


@spaces_app.command("list")
@user_errors
def spaces_list() -> None:
    """Every method and its search-space file."""
    from rich.table import Table

    from ltsearch.search.space import list_spaces, load_space

    t = Table(title="search spaces", title_justify="left")
    for col in ("method", "file", "searched", "fixed"):
        t.add_column(col, overflow="fold")  # a path to copy: folded, never cut
    for method, path in list_spaces():
        try:
            sp = load_space(method, path=path)
            searched = ", ".join(d.name for d in sp.searched)
            fixed = ", ".join(d.name for d in sp.fixed)
        except LTSearchError as err:
            searched, fixed = f"[red]{err}[/]", ""
        t.add_row(method, str(path) if path else "(generated)", searched, fixed)
    console.print(t)


@spaces_app.command("show")
@user_errors
def spaces_show(
    method: MethodArg,
    dataset: DatasetOpt = DEFAULT_DATASET,
    space: Annotated[Optional[Path], typer.Option("--space", help="a space file instead of the built-in one")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="NAME=LOW:HIGH[:log] or NAME=a,b,c")] = None,
    fix: Annotated[Optional[list[str]], typer.Option("--fix", help="NAME=VALUE")] = None,
    as_yaml: Annotated[bool, typer.Option("--yaml", help="print the resolved space as YAML")] = False,
) -> None:
    """The resolved space of METHOD on a dataset: ranges, conditions, paper point, base config."""
    from ltsearch.search.space import load_space

    sp = load_space(method, path=space, dataset=dataset, params=list(param or []), fixed=list(fix or []))
    if as_yaml:
        sys.stdout.write(sp.to_yaml())
        return
    from rich.table import Table  # ~0.05 s: after the input is checked

    base = sp.base_config()
    point = sp.paper_point(base)
    t = Table(title=f"{sp.method} on {sp.dataset} ({sp.source}), metric {sp.metric} ({sp.mode})",
              title_justify="left")
    for col in ("parameter", "values", "paper", "help"):
        t.add_column(col)
    for d in sp.dims:
        paper = point.get(d.name, "-" if d.searched else d.value)
        t.add_row(d.name, d.describe(), str(paper), d.help)
    console.print(t)
    if sp.base:
        console.print("[bold]base config overrides[/]:")
        console.print(dump_yaml(sp.base), markup=False, highlight=False, soft_wrap=True)  # YAML to copy: never broken


@spaces_app.command("new")
@user_errors
def spaces_new(method: MethodArg) -> None:
    """Print a space file to start from, e.g. ltsearch spaces new kps > mine.yaml"""
    from ltsearch.search.space import space_template

    sys.stdout.write(space_template(method))

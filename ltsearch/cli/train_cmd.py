"""``ltsearch train``: one trial (or one per seed) from a YAML config or a paper preset; ``ltsearch
confirm``: a search's top configs trained over seeds (final runs), ranked by their mean."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ltsearch.checks import check_train_flags, shown_key
from ltsearch.cli.common import (
    DataRootOpt,
    DatasetOpt,
    EpochsOpt,
    MetricOpt,
    RatioOpt,
    SearchNameOpt,
    SetOpt,
    TrackingUriOpt,
    check_dataset,
    check_metric,
    console,
    err_console,
    parse_seeds,
    user_errors,
)
from ltsearch.config import apply_overrides, config_from_dict, load_yaml
from ltsearch.errors import LTSearchError
from ltsearch.presets import load_preset


@user_errors
def train(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="trial config YAML")] = None,
    preset: Annotated[Optional[str], typer.Option("--preset", "-p",
                                                  help="paper preset METHOD/DATASET, e.g. kps/cifar10-lt")] = None,
    overrides: SetOpt = None,
    epochs: EpochsOpt = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="final runs over seeds, e.g. 0,1,2 "
                                                 "(logged to MLflow)")] = None,
    data_root: DataRootOpt = None,
    out: Annotated[Optional[Path], typer.Option("--output", "-o", help="output folder (default "
                                                "trials/train/METHOD-DATASET-TIME)")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="resume from the output folder's checkpoint")] = True,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Train one config and print overall / many / medium / few accuracy on val and test.

    Examples: ltsearch train --preset kps/cifar10-lt --epochs 30 --set model.name=resnet20;
    ltsearch train --config best.yaml --seeds 0,1,2
    """
    check_train_flags(epochs, out, seeds, tracking_uri)  # flags first, before the config and torch

    if (config is None) == (preset is None):
        raise LTSearchError("give exactly one of --config FILE or --preset METHOD/DATASET "
                            "(e.g. --preset kps/cifar10-lt)")
    if config is not None:
        raw, where = load_yaml(config), str(config)
        raw.pop("ltsearch", None)  # provenance block written by `ltsearch export`
        if not raw:  # not "every default": that is ce with resnet32 for 200 epochs
            raise LTSearchError(f"{shown_key(where, 200)}: an empty config; give a trial config (ltsearch export "
                                f"writes one) or --preset METHOD/DATASET")
    else:
        raw, where = load_preset(preset)["config"], f"preset {preset}"
    sets = list(overrides or [])
    if epochs is not None:
        sets.append(f"epochs={epochs}")
    raw = apply_overrides(raw, sets)
    if data_root is not None and isinstance(raw.get("dataset", {}), dict):  # a path, never YAML ('#2' stays)
        raw.setdefault("dataset", {})["root"] = str(data_root)
    flags = [f"--set {shown_key(o)}" for o in overrides or []] + ([f"--epochs {epochs}"] if epochs is not None else [])
    source = shown_key(where + (f" with {' '.join(flags)}" if flags else ""), 200)  # a bad value: either source
    cfg = config_from_dict(raw, where=source)
    from ltsearch.train import resolve_config

    try:
        cfg, params = resolve_config(cfg)  # method params checked before anything is written
    except LTSearchError as err:
        raise LTSearchError(f"{source}: {err}") from None
    if cfg.cache_dir is None:  # decoupled methods reuse a stage-1 backbone trained with the same config
        cfg.cache_dir = str(Path("trials/cache").resolve())
    seed_list = parse_seeds(seeds)  # None: one run with the config's own seed
    # inputs read before anything is printed or written: the data (missing root, bad split
    # files, corrupt images) and a given stage-1 checkpoint; errors are one line, exit 2
    from ltsearch.data import DatasetSpec, load_dataset

    data = load_dataset(DatasetSpec.from_config(cfg.dataset))
    if params.get("backbone"):
        from ltsearch.train.checkpoint import load_checkpoint

        load_checkpoint(params["backbone"])
    base = out or Path("trials") / "train" / f"{cfg.method.name}-{cfg.dataset.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    # every output folder checked before anything is printed or trained: a folder holding a run of another
    # config is refused here, not after a progress bar (or after the seeds before it trained)
    resumed = check_folders([(cfg, base)] if not seeds else
                            [(_with_seed(cfg, s, where), base / f"seed{s}") for s in seed_list], resume)
    try:
        if seeds:
            results = train_seeds(cfg, seed_list, base, resume, data, config, tracking_uri, where=where,
                                  resumed=resumed)
            _print_seeds(results, seed_list)
        else:
            _train_one(cfg, base, resume, data, resumed.get(str(base), 0))
    except KeyboardInterrupt:  # the epochs done are in the folder's checkpoint: say how to go on
        again = "rerun the same command" if out is not None else f"rerun the command with --output {base}"
        err_console.print(f"stopped: {again} to resume from the last epoch saved there", markup=False,
                          highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None


def _with_seed(cfg, seed: int, where: str):
    return config_from_dict({**cfg.to_dict(), "seed": seed}, where=where)


def check_folders(runs: list[tuple], resume: bool) -> dict[str, int]:
    """``{folder: epochs its run resumes after}`` for each ``(config, folder)``; a folder holding a run of
    another config is refused (one line, exit 2) before any of them trains."""
    from ltsearch.train import resumed_epochs

    return {str(folder): resumed_epochs(cfg, folder, resume) for cfg, folder in runs}


def train_seeds(cfg, seed_list: list[int], base: Path, resume: bool, data, config_path: Path | None,
                tracking_uri: str | None, where: str = "config", resumed: dict[str, int] | None = None) -> list[dict]:
    """Final runs: ``cfg`` trained once per seed into ``base/seed<k>``, then logged to MLflow as the
    leaderboard's ``final`` rows (linked to the trial that ``config_path``'s provenance block names).
    ``resumed``: :func:`check_folders` of those folders, when the caller checked them."""
    results, run_dirs = [], []
    for seed in seed_list:
        run_cfg = _with_seed(cfg, seed, where)
        run_dirs.append(base / f"seed{seed}")
        results.append(_train_one(run_cfg, run_dirs[-1], resume, data, (resumed or {}).get(str(run_dirs[-1]), 0)))
    _log_final_runs(cfg, results, seed_list, config_path, tracking_uri, run_dirs, data)
    return results


def _train_one(cfg, run_dir: Path, resume: bool, data=None, done: int = 0) -> dict:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from ltsearch.train import planned_epochs, run_trial

    total = planned_epochs(cfg)
    console.print(f"[bold]{cfg.method.name}[/] on {cfg.dataset.name} with {cfg.model.name}, "
                  f"{total} epochs, seed {cfg.seed} -> {run_dir}"
                  + (f" (resuming after epoch {done}, from its checkpoint)" if done else ""))
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), TimeRemainingColumn(), console=console.real()) as bar:
        task = bar.add_task("epochs", total=total, completed=min(done, total), status="")

        def report(epoch: int, m: dict) -> None:
            val = f"val {m['val/acc']:.2f}" if "val/acc" in m else ""
            bar.update(task, completed=epoch, status=f"loss {m['train/loss']:.3f} lr {m['lr']:.4g} {val}")

        result = run_trial(cfg, report=report, out_dir=run_dir, resume=resume, data=data)
    _print_table(result)
    console.print(f"outputs: {run_dir}")
    return result


def _print_table(result: dict) -> None:
    from rich.table import Table

    from ltsearch.metrics import format_group

    table = Table(title=f"top-1 accuracy (%), validation protocol: {result['val_protocol']}")
    for col in ("split", "overall", "many", "medium", "few"):
        table.add_column(col, justify="right")
    for split in ("val", "test"):
        table.add_row(split, *(format_group(result.get(f"{split}/{k}")) for k in ("acc", "many", "medium", "few")))
    console.print(table)


def _log_final_runs(cfg, results, seed_list, config_path, tracking_uri, run_dirs, data) -> None:
    """Final runs go to MLflow, linked to the search they came from (the exported ``ltsearch:`` block),
    with their figures and the training set as their dataset input."""
    from ltsearch.tracking import resolve_tracking_uri
    from ltsearch.tracking.final import log_final_runs

    before: list[int] = []
    log_final_runs(cfg, results, seed_list, config_path=config_path, tracking_uri=tracking_uri,
                   run_dirs=run_dirs, data=data, logged_before=before)
    uri = resolve_tracking_uri(tracking_uri)
    new = [s for s in seed_list if s not in before]
    if new:
        console.print(f"MLflow {uri}: final runs of seed{'s' if len(new) > 1 else ''} "
                      f"{', '.join(map(str, new))} logged (the leaderboard's final rows)", markup=False,
                      highlight=False, soft_wrap=True)
    if before:
        console.print(f"MLflow {uri}: seed{'s' if len(before) > 1 else ''} {', '.join(map(str, before))} of this "
                      f"config and source were logged before; kept once, not logged again", markup=False,
                      highlight=False, soft_wrap=True)


def _print_seeds(results: list[dict], seed_list: list[int]) -> None:
    """The seeds' mean ± std (sample std) of each split's accuracy, as the leaderboard shows them."""
    from ltsearch.reports.fmt import fmt_pm, mean_std

    parts = [f"{key} {fmt_pm(*mean_std([r.get(key) for r in results]))}"
             for key in ("val/acc", "test/acc", "test/many", "test/medium", "test/few")
             if all(r.get(key) is not None for r in results)]
    console.print(f"over seeds {', '.join(map(str, seed_list))}: " + ", ".join(parts), markup=False,
                  highlight=False, soft_wrap=True)


@user_errors
def confirm(
    dataset: DatasetOpt,
    search: SearchNameOpt,
    imbalance_ratio: RatioOpt = None,
    top: Annotated[int, typer.Option("--top", "-k", help="how many of the search's best configs")] = 3,
    seeds: Annotated[str, typer.Option("--seeds", help="the seeds each config is trained with")] = "0,1,2",
    metric: MetricOpt = "val/acc",
    out: Annotated[Optional[Path], typer.Option("--output", "-o", help="output folder (default "
                                                "trials/confirm/NAME)")] = None,
    tracking_uri: TrackingUriOpt = None,
) -> None:
    """Train a search's top configs over seeds and rank them by the mean: a search trains each config
    with one seed, which at short budgets moves its accuracy by points. Where fewer than --top configs
    reached the full budget (sh keeps 1 in 4 at each rung by default), the best of the lower rungs follow, trained
    at the full budget. The runs are the leaderboard's final rows (mean ± std), linked to their trial; a
    rerun resumes them.

    Example: ltsearch confirm -d cifar10-lt -r 100 --name kps-c10 --top 3 --seeds 0,1,2
    """
    check_train_flags(None, out, seeds, tracking_uri)
    check_dataset(dataset)
    check_metric(metric)
    if top < 1:
        raise LTSearchError(f"--top {top}: use 1 or more configs")
    seed_list = parse_seeds(seeds)
    from ltsearch.data import DatasetSpec, load_dataset
    from ltsearch.reports.confirm import config_path, full_budget_configs, summarize, top_rows, write_config
    from ltsearch.reports.export import full_budget_config, row_config
    from ltsearch.tracking import resolve_tracking_uri
    from ltsearch.train import resolve_config

    uri = resolve_tracking_uri(tracking_uri)
    experiment, rows = top_rows(dataset, search, imbalance_ratio=imbalance_ratio, top=top, metric=metric,
                                tracking_uri=uri)
    base = out or Path("trials") / "confirm" / search
    # every config and its data read before anything is written or trained: errors are one line, exit 2
    loaded: dict[str, object] = {}
    plans = []
    configs = full_budget_configs(rows, [row_config(experiment, row, uri) for row in rows],
                                  [full_budget_config(row, uri) for row in rows])
    for row, (config, notes) in zip(rows, configs):
        path = config_path(base, row)
        cfg, _ = resolve_config(config_from_dict(config, where=f"config of run {row['run_id']}"))
        spec = DatasetSpec.from_config(cfg.dataset)
        if repr(spec) not in loaded:  # the configs of one search share their data
            loaded[repr(spec)] = load_dataset(spec)
        plans.append((row, config, notes, cfg, path, loaded[repr(spec)]))
    resumed = check_folders([(_with_seed(cfg, s, str(path)), base / path.stem / f"seed{s}")
                             for _, _, _, cfg, path, _ in plans for s in seed_list], True)
    entries = []
    for row, config, notes, cfg, path, data in plans:
        write_config(path, experiment, row, config, metric, notes)
        results = train_seeds(cfg, seed_list, base / path.stem, True, data, path, uri, where=str(path),
                              resumed=resumed)
        entries.append({"row": row, "order": len(entries) + 1, "seeds": seed_list, "results": results,
                        "config_path": path, "stopped_at": row["budget_epochs"] if notes else None})
    _print_confirmed(summarize(entries, metric), metric, search)


def _config_id(row: dict) -> str:
    """The config's name as the search's summary gives it: ``t003`` for its rung run ``t003-r1``."""
    import re

    return re.sub(r"-r\d+$", "", row["trial"]) if row.get("trial") else row["run_id"][:8]


def _print_confirmed(ranked: list[dict], metric: str, search: str) -> None:
    from rich.table import Table

    from ltsearch.metrics import format_group

    table = Table(title=f"{search}: its top configs over seeds, by mean {metric}")
    for col in ("rank", "trial", f"search's {metric}", *(f"seed {s}" for s in ranked[0]["seeds"]),
                "mean ± std", "test/acc mean"):
        table.add_column(col, justify="right")
    for i, e in enumerate(ranked, 1):
        std = "" if e["std"] is None else f" ± {e['std']:.2f}"
        rung = "" if e["stopped_at"] is None else f" ({e['stopped_at']} ep)"  # the search's value at its rung
        table.add_row(str(i), _config_id(e["row"]), format_group(e["row"]["val"]) + rung,
                      *(format_group(v) for v in e["values"]), f"{format_group(e['mean'])}{std}",
                      format_group(e["test_mean"]))
    console.print(table)
    first = ranked[0]
    console.print(f"best on the mean: {_config_id(first['row'])} (the search's "
                  f"rank {first['order']}); its config: {first['config_path']}")

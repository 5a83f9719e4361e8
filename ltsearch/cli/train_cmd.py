"""``ltsearch train``: one trial (or one per seed) from a YAML config or a paper preset."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ltsearch.checks import check_train_flags
from ltsearch.cli.common import (
    DataRootOpt,
    EpochsOpt,
    SetOpt,
    TrackingUriOpt,
    console,
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
    else:
        raw, where = load_preset(preset)["config"], f"preset {preset}"
    sets = list(overrides or [])
    if epochs is not None:
        sets.append(f"epochs={epochs}")
    if data_root is not None:
        sets.append(f"dataset.root={data_root}")
    raw = apply_overrides(raw, sets)
    cfg = config_from_dict(raw, where=where)
    from ltsearch.train import resolve_config

    cfg, params = resolve_config(cfg)  # method params checked before anything is written
    if cfg.cache_dir is None:  # decoupled methods reuse a stage-1 backbone trained with the same config
        cfg.cache_dir = str(Path("trials/cache").resolve())
    seed_list = parse_seeds(seeds) or [cfg.seed]
    # inputs read before anything is printed or written: the data (missing root, bad split
    # files, corrupt images) and a given stage-1 checkpoint; errors are one line, exit 2
    from ltsearch.data import DatasetSpec, load_dataset

    data = load_dataset(DatasetSpec.from_config(cfg.dataset))
    if params.get("backbone"):
        from ltsearch.train.checkpoint import load_checkpoint

        load_checkpoint(params["backbone"])
    base = out or Path("trials") / "train" / f"{cfg.method.name}-{cfg.dataset.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    results, run_dirs = [], []
    for seed in seed_list:
        run_cfg = config_from_dict({**cfg.to_dict(), "seed": seed}, where=where)
        run_dir = base / f"seed{seed}" if len(seed_list) > 1 or seeds else base
        results.append(_train_one(run_cfg, run_dir, resume, data))
        run_dirs.append(run_dir)
    if seeds:
        _log_final_runs(cfg, results, seed_list, config, tracking_uri, run_dirs, data)


def _train_one(cfg, run_dir: Path, resume: bool, data=None) -> dict:
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
                  f"{total} epochs, seed {cfg.seed} -> {run_dir}")
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[status]}"), TimeRemainingColumn(), console=console.real()) as bar:
        task = bar.add_task("epochs", total=total, status="")

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
    from ltsearch.tracking.final import log_final_runs

    log_final_runs(cfg, results, seed_list, config_path=config_path, tracking_uri=tracking_uri,
                   run_dirs=run_dirs, data=data)

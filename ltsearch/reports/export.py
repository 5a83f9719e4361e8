"""``ltsearch export``: the complete trial config of a leaderboard row as plain, editable YAML.

The file starts with a comment naming the source run, search and metric value, then a
top-level ``ltsearch:`` provenance block (``source_run``, ``source_search``, ``experiment``)
that ``ltsearch train`` pops before validating, then the config itself.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from ltsearch.config import config_from_dict, unflatten
from ltsearch.console import count
from ltsearch.errors import LTSearchError
from ltsearch.presets import list_presets, load_preset
from ltsearch.reports import leaderboard
from ltsearch.reports.fmt import fmt_pm
from ltsearch.reports.output import check_target, write_text
from ltsearch.tracking import resolve_tracking_uri
from ltsearch.tracking.outputs import FULL_BUDGET_CONFIG_FILE
from ltsearch.tracking.reader import parse_param, read_artifact_text, search_runs
from ltsearch.yamlio import safe_load


def config_of_run(run_id: str, params: dict[str, str], tracking_uri: str | None = None) -> dict:
    """The run's ``config.yaml`` artifact, else its flattened params rebuilt with ``unflatten``."""
    text = read_artifact_text(run_id, "config.yaml", tracking_uri)
    if text:
        data = safe_load(text)
        if isinstance(data, dict) and data:
            data.pop("ltsearch", None)
            return data
    return unflatten({k: parse_param(v) for k, v in params.items()})


def row_config(experiment: str, row: dict, tracking_uri: str) -> dict:
    """The full trial config of leaderboard row ``row`` (its run's ``config.yaml``)."""
    run = next((r for r in search_runs(experiment, tracking_uri) if r["run_id"] == row["run_id"]), None)
    if run is None:  # pragma: no cover - the row came from this store
        raise LTSearchError(f"run {row['run_id']} vanished from {tracking_uri}")
    return config_of_run(row["run_id"], run["params"], tracking_uri)


def full_budget_config(row: dict, tracking_uri: str) -> dict | None:
    """The config of row ``row``'s run at its search's full budget, which a run of a lower sh rung
    records (``full_budget_config.yaml``); None for a run without it (one at the full budget, or of
    a search from before it was recorded)."""
    text = read_artifact_text(row["run_id"], FULL_BUDGET_CONFIG_FILE, tracking_uri)
    data = safe_load(text) if text else None
    return data if isinstance(data, dict) and data else None


def apply_paper_budget(config: dict, method: str, dataset: str) -> dict:
    """Epochs and schedule (and a method's stage budgets) from ``presets/<method>/<dataset>.yaml``."""
    name = f"{method}/{dataset}"
    if name not in list_presets():
        have = ", ".join(p for p in list_presets() if p.startswith(f"{method}/")) or "none"
        raise LTSearchError(f"--paper-budget: no paper preset {name}; {method} has: {have}")
    preset = load_preset(name)["config"]
    out = copy.deepcopy(config)
    if "epochs" in preset:
        out["epochs"] = preset["epochs"]
    if "schedule" in preset:
        out["schedule"] = {**out.get("schedule", {}), **preset["schedule"]}
    budget_keys = ("stage2_epochs",)
    preset_params = (preset.get("method") or {}).get("params") or {}
    for key in budget_keys:
        if key in preset_params:
            out.setdefault("method", {}).setdefault("params", {})[key] = preset_params[key]
    return out


def portable(config: dict) -> tuple[dict, list[str]]:
    """The config without the paths of the machine that ran it: ``cache_dir`` (a search's stage-1
    cache; ``train`` picks its own) and an absolute ``dataset.root`` (give ``--data-root``).
    Returns (config, notes for the file's header)."""
    out, notes = copy.deepcopy(config), []
    out.pop("cache_dir", None)
    root = (out.get("dataset") or {}).get("root")
    if isinstance(root, str) and Path(root).is_absolute():
        out["dataset"]["root"] = None
        notes.append(f"# dataset.root was {root} on the machine that ran it: train with --data-root FOLDER")
    return out, notes


def exported_yaml(config: dict, row: dict, experiment: str, metric: str, notes: tuple[str, ...] = ()) -> str:
    """One YAML style (block), floats in their shortest exact form (repr), no machine paths; ``notes``:
    more comment lines for the header."""
    config, path_notes = portable(config)
    notes = [*notes, *path_notes]
    value = "—" if row.get("val") is None else f"{row['val']:.2f}"
    kind = row.get("kind", "trial")
    source = row.get("source_run") or row.get("run_id")  # a final row's trial (the provenance block's run)
    if kind == "final":
        value = (f"{fmt_pm(row.get('val'), row.get('val_std'))}, the mean of its final runs over "
                 f"{row.get('seeds') or '?'} seeds")
    header = [
        f"# ltsearch export: {row.get('method')} on {experiment}, leaderboard rank {row.get('rank')} ({kind})",
        f"# source run {source} of search {row.get('search') or '-'}; {metric} = {value}",
        "# Train it: ltsearch train --config THIS_FILE --seeds 0,1,2",
        *notes,
    ]
    prov = {"ltsearch": {"source_run": source,
                         "source_search": row.get("search") or "", "experiment": experiment}}
    block = yaml.safe_dump(prov, sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + block + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def export_config(dataset: str, output: str | Path, *, imbalance_ratio: float | None = None,
                  method: str | None = None, rank: int = 1, epochs: int | None = None,
                  paper_budget: bool = False, metric: str = "val/acc",
                  tracking_uri: str | None = None, budget: int | None = None,
                  search: str | None = None) -> dict[str, Any]:
    """Write the config of leaderboard row ``rank`` (within the largest budget, or ``budget``
    epochs; among search ``search``'s trials only when given) to ``output``; returns a summary dict."""
    uri = resolve_tracking_uri(tracking_uri)
    check_target(output, mkdir=True)  # a folder or a device: refused before any work
    if rank < 1:
        raise LTSearchError(f"--rank {rank}: ranks start at 1")
    board = leaderboard.build(dataset, imbalance_ratio, method=method, metric=metric, tracking_uri=uri,
                              reference=False, budget=budget, search=search)
    ranked = board.groups[0][1] if board.groups else []
    if not ranked:
        what = f"dataset {dataset}" + (f" and method {method}" if method else "")
        raise LTSearchError(f"no finished runs for {what} in {uri}; run `ltsearch run ...` first")
    if rank > len(ranked):
        raise LTSearchError(f"--rank {rank}: the leaderboard of {board.experiment} ({ranked[0]['budget']}) has "
                            f"{count(len(ranked), 'row')}; use --rank 1..{len(ranked)}")
    row = ranked[rank - 1]
    config = row_config(board.experiment, row, uri)
    if row["kind"] == "final":
        config["seed"] = 0
    if paper_budget:
        config = apply_paper_budget(config, row["method"], dataset)
    if epochs is not None:
        config["epochs"] = int(epochs)
    config_from_dict(copy.deepcopy(config), where=f"config of run {row['run_id']}")  # valid before writing
    text = exported_yaml(config, row, board.experiment, metric)
    out = write_text(output, text, mkdir=True)
    return {"output": str(out), "run_id": row["run_id"], "search": row["search"], "method": row["method"],
            "rank": rank, "metric": metric, "value": row["val"], "experiment": board.experiment,
            "epochs": config.get("epochs")}

"""Leaderboards from MLflow: ranked trial / final rows plus the papers' reference rows.

* one row per finished trial (completed, or stopped early by ASHA; failed trials are left
  out): the search objective (its ``best/<metric>``, else the best of the metric's per-epoch history), the
  final test numbers (overall / many / medium / few; an empty group is ``—``, never 0),
  epochs run, search, run id;
* final multi-seed runs (``ltsearch.kind=final``) grouped by their source trial (or by
  identical params) as mean ± std over the seeds;
* the papers' reported numbers as reference rows (rank ``ref``, kind ``paper``), never ranked;
* rows whose validation was the test set (``ltsearch.val_protocol=test``) are flagged;
* runs of the paper's recipe are marked ``paper default``: a search's paper point (tag
  ``ltsearch.paper_default``, set by the recorder) or a run whose config is its preset.

Rows are grouped by budget (model, epochs, validation protocol) and ranked within their group only.
:mod:`ltsearch.reports.leaderboard_formats` writes a board out (table, markdown, CSV, HTML, JSON).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ltsearch.config import config_from_dict, flatten
from ltsearch.errors import LTSearchError
from ltsearch.methods import METHODS
from ltsearch.presets import paper_config, reported_rows
from ltsearch.reports.fmt import (
    higher_is_better,
    mean_std,
    num,
    objective,
    same,
    short_key,
)
from ltsearch.tracking import (
    TAG_METHOD,
    TAG_PAPER_DEFAULT,
    TAG_SEARCH,
    TAG_SEED,
    TAG_SOURCE_RUN,
    TAG_SOURCE_SEARCH,
    TAG_STATUS,
    TAG_VAL_PROTOCOL,
    reader,
)
from ltsearch.tracking.reader import parse_param

TAG_BUDGET = "ltsearch.budget"  # planned epochs of a trial (all stages; at its rung for `--scheduler sh`)
TAG_RUNG = "ltsearch.rung"  # successive-halving rung of a trial run
GROUPS = ("acc", "many", "medium", "few")
# flattened config keys that never count as "key params" of a row
# (the budget's own keys, model / epochs / val protocol, are in each group's header instead)
_NOT_KEY = {"seed", "device", "amp", "channels_last", "compile", "dataset.root", "dataset.download",
            "dataset.name", "dataset.imbalance_ratio", "eval_every", "method.name", "cache_dir", "epochs",
            "dataset.val", "model.name"}
# flattened config keys that never make a run differ from its paper preset (where and how it ran,
# the row's experiment and validation protocol, which the budget names)
_NOT_RECIPE = {"seed", "device", "amp", "channels_last", "compile", "dataset.root", "dataset.download",
               "cache_dir", "eval_every", "dataset.imbalance_ratio", "dataset.val"}


@dataclass
class Leaderboard:
    experiment: str
    metric: str
    rows: list[dict] = field(default_factory=list)  # ranked rows first, then reference rows
    tracking_uri: str | None = None
    filters: str = ""  # the flags that kept part of the rows, e.g. "--method lort --budget 8"

    @property
    def ranked(self) -> list[dict]:
        return [r for r in self.rows if r["kind"] != "paper"]

    @property
    def reference(self) -> list[dict]:
        return [r for r in self.rows if r["kind"] == "paper"]

    @property
    def groups(self) -> list[tuple[str, list[dict]]]:
        """The ranked rows by budget, in board order: ``[(budget label, rows), ...]``."""
        out: dict[str, list[dict]] = {}
        for row in self.ranked:
            out.setdefault(row["budget"], []).append(row)
        return list(out.items())


def budget_of(run: dict) -> dict[str, Any]:
    """A run's budget: model, planned epochs (tag ``ltsearch.budget``, else ``epochs`` plus a
    decoupled method's ``stage2_epochs``) and validation protocol. Only rows of one budget are
    comparable (issue 12: a 6-epoch trial never ranks among 26-epoch ones)."""
    tags, params = run["tags"], run["params"]
    epochs = num(tags.get(TAG_BUDGET))
    if epochs is None:
        e = num(parse_param(params.get("epochs")))
        s2 = num(parse_param(params.get("method.params.stage2_epochs")))
        epochs = None if e is None else e + (s2 or 0)
    val = tags.get(TAG_VAL_PROTOCOL) or ("test" if params.get("dataset.val") == "test" else "split")
    return {"model": params.get("model.name", "") or "?", "epochs": None if epochs is None else int(epochs),
            "val": val}


def budget_label(b: dict[str, Any]) -> str:
    return f"{b['model']}, {'?' if b['epochs'] is None else b['epochs']} epochs, val {b['val']}"


# ---- building rows ---------------------------------------------------------------------
def _key_params(method: str, runs: list[dict]) -> list[str]:
    """Flattened keys shown as the method's key params: its registry params present in the runs,
    then any other config key whose value varies across the runs (a searched knob like optim.lr)."""
    try:
        registry = list(METHODS.get(method).params)
    except LTSearchError:
        registry = []
    present = set().union(*(r["params"].keys() for r in runs)) if runs else set()
    keys = [f"method.params.{p}" for p in registry if f"method.params.{p}" in present]
    others = sorted(k for k in present if k not in keys and k not in _NOT_KEY
                    and not k.startswith("method.params.") and len({r["params"].get(k) for r in runs}) > 1)
    extra_method = sorted(k for k in present if k.startswith("method.params.") and k not in keys)
    return keys + extra_method + others


_PRESETS: dict[tuple[str, str], dict | None] = {}


def preset_params(method: str, dataset: str) -> dict[str, Any] | None:
    """The flattened config of the paper preset ``method/dataset`` (method params resolved, as
    ``ltsearch train --preset`` logs them), less :data:`_NOT_RECIPE`; None without a preset."""
    if (method, dataset) not in _PRESETS:
        out = None
        try:
            raw = paper_config(method, dataset)
            if raw:
                cfg = config_from_dict(raw, where=f"preset {method}/{dataset}")
                cfg.method.params = METHODS.get(method).resolve(cfg.method.params, dataset=cfg.dataset.name)
                out = {k: v for k, v in flatten(cfg.to_dict()).items() if k not in _NOT_RECIPE}
        except LTSearchError:
            out = None
        _PRESETS[(method, dataset)] = out
    return _PRESETS[(method, dataset)]


def is_paper_default(run: dict) -> bool:
    """A run of the paper's recipe: tagged so by its search (its paper point, at the run's budget:
    :data:`TAG_PAPER_DEFAULT`), or a run whose whole config is its preset's (``ltsearch train
    --preset M/D`` unchanged; where it ran, its seed and its validation protocol aside)."""
    if run["tags"].get(TAG_PAPER_DEFAULT) == "true":
        return True
    params = run["params"]
    preset = preset_params(params.get("method.name", ""), params.get("dataset.name", ""))
    if not preset:
        return False
    keys = {k for k in params if k not in _NOT_RECIPE}
    return keys == set(preset) and all(same(parse_param(params[k]), v) for k, v in preset.items())


def _params_of(run: dict, keys: list[str], method: str) -> dict[str, Any]:
    """The row's key params, without a method knob that had no effect in this run (its registry
    ``active_when``: KPS's ``ga_start`` under ``ga: off``), as the search's summary shows it."""
    try:
        registry = METHODS.get(method).params
    except LTSearchError:
        registry = {}
    knobs = {short_key(k): parse_param(v) for k, v in run["params"].items() if k.startswith("method.params.")}

    def active(k: str) -> bool:
        p = registry.get(short_key(k)) if k.startswith("method.params.") else None
        return p is None or p.is_active(knobs)

    return {short_key(k): parse_param(run["params"][k]) for k in keys if k in run["params"] and active(k)}


def _trial_row(run: dict, metric: str, history: list, keys: list[str]) -> dict | None:
    m = run["metrics"]
    val, epoch = objective(run, metric, history)
    if val is None:
        return None
    epochs = num(m.get("epochs_run"))
    if epochs is None and history:
        epochs = max(s for s, _ in history)
    tags = run["tags"]
    row = _empty_row("trial", tags.get(TAG_METHOD) or run["params"].get("method.name", "?"))
    row.update({
        "params": _params_of(run, keys, row["method"]),
        "val": val,
        "best_epoch": epoch,
        "epochs": int(epochs) if epochs is not None else None,
        "status": tags.get(TAG_STATUS) or ("completed" if run["status"] == "FINISHED" else run["status"].lower()),
        "search": tags.get(TAG_SEARCH, ""),
        "trial": run.get("run_name") or "",
        "run_id": run["run_id"],
        "experiment_id": run.get("experiment_id"),
        "model": run["params"].get("model.name", ""),
        "tuned_on_test": tags.get(TAG_VAL_PROTOCOL) == "test" or run["params"].get("dataset.val") == "test",
        "budget": budget_label(budget_of(run)),
        "budget_epochs": budget_of(run)["epochs"],
        "rung": tags.get(TAG_RUNG),
        "paper_default": is_paper_default(run),
    })
    for g in GROUPS:
        row[f"test_{g}"] = num(m.get(f"test/{g}"))
    return row


def _final_rows(runs: list[dict], metric: str, keys_of: dict[str, list[str]]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        src = run["tags"].get(TAG_SOURCE_RUN)
        if src:
            key = ("source", src)
        else:
            flat = sorted((k, v) for k, v in run["params"].items() if k != "seed")
            key = ("params", hashlib.sha1(repr(flat).encode()).hexdigest())
        groups.setdefault(key, []).append(run)
    rows = []
    for (_, ident), members in groups.items():
        members.sort(key=lambda r: (int(r["tags"].get(TAG_SEED, r["params"].get("seed", 0)) or 0), r["run_id"]))
        first = members[0]
        method = first["tags"].get(TAG_METHOD) or first["params"].get("method.name", "?")
        row = _empty_row("final", method)
        vals = [objective(r, metric)[0] for r in members]
        row["val"], row["val_std"] = mean_std(vals)
        for g in GROUPS:
            row[f"test_{g}"], row[f"test_{g}_std"] = mean_std([num(r["metrics"].get(f"test/{g}")) for r in members])
        epochs = [num(r["metrics"].get("epochs_run")) for r in members]
        epochs = [e for e in epochs if e is not None]
        row.update({
            "params": _params_of(first, keys_of.get(method) or _key_params(method, members), method),
            "epochs": int(max(epochs)) if epochs else None,
            "status": "completed",
            "seeds": len(members),
            "seed_list": [r["tags"].get(TAG_SEED, r["params"].get("seed")) for r in members],
            "search": first["tags"].get(TAG_SOURCE_SEARCH, ""),
            "run_id": first["run_id"],
            "run_ids": [r["run_id"] for r in members],
            "experiment_id": first.get("experiment_id"),
            "source_run": first["tags"].get(TAG_SOURCE_RUN, ""),
            "model": first["params"].get("model.name", ""),
            "tuned_on_test": any(r["tags"].get(TAG_VAL_PROTOCOL) == "test" for r in members),
            "budget": budget_label(budget_of(first)),
            "budget_epochs": budget_of(first)["epochs"],
            "paper_default": all(is_paper_default(r) for r in members),
        })
        if row["val"] is not None:
            rows.append(row)
    return rows


def trial_number(row: dict) -> int:
    """A search's trial number (``t012`` and its rung runs ``t012-r1``: 12); -1 for other rows."""
    m = re.match(r"t(\d+)", row.get("trial") or "")
    return int(m.group(1)) if m else -1


def _empty_row(kind: str, method: str) -> dict:
    row: dict[str, Any] = {"rank": None, "kind": kind, "method": method, "params": {}, "val": None,
                           "val_std": None, "best_epoch": None, "epochs": None, "status": "", "seeds": None,
                           "search": "", "run_id": "", "experiment_id": None, "source_run": "", "model": "",
                           "tuned_on_test": False, "note": "", "budget": "", "budget_epochs": None, "rung": None, "paper_default": False}
    for g in GROUPS:
        row[f"test_{g}"] = None
        row[f"test_{g}_std"] = None
    return row


def reference_rows(dataset: str, imbalance_ratio: float | None, method: str | None = None) -> list[dict]:
    """The papers' numbers for ``dataset`` as leaderboard rows (rank ``ref``, kind ``paper``)."""
    rows = []
    for rep in reported_rows(dataset, imbalance_ratio):
        if method is not None and rep["method"] != method:
            continue
        row = _empty_row("paper", rep["method"] + (f" ({rep['variant']})" if rep.get("variant") else ""))
        row["rank"] = "ref"
        row["model"] = rep.get("model", "") or ""
        row["note"] = rep.get("source", "") or ""
        if rep.get("imbalance_ratio") is not None and imbalance_ratio is None:
            row["note"] = f"IR {rep['imbalance_ratio']:g}; {row['note']}"
        for g in GROUPS:
            row[f"test_{g}"] = num(rep.get(g))
        rows.append(row)
    rows.sort(key=lambda r: (-(r["test_acc"] or 0.0), r["method"], r["model"], r["note"]))
    return rows


def _ratio_of(experiment: str, dataset: str) -> float | None:
    suffix = experiment[len(dataset):]
    if suffix.startswith("-ir"):
        try:
            return float(suffix[3:])
        except ValueError:
            return None
    return None


def build(dataset: str, imbalance_ratio: float | None = None, *, method: str | None = None,
          metric: str = "val/acc", top: int | None = None, tracking_uri: str | None = None,
          reference: bool = True, search: str | None = None, budget: int | None = None) -> Leaderboard:
    """The leaderboard of ``dataset``'s experiment (see the module docstring).

    Rows are ranked within their budget (model, epochs, val protocol); the largest budget comes
    first; ``budget`` keeps only the rows of that many epochs; ``top`` applies to each budget.
    """
    experiment = reader.resolve_experiment(dataset, imbalance_ratio, tracking_uri)
    ratio = imbalance_ratio if imbalance_ratio is not None else _ratio_of(experiment, dataset)
    trials = reader.trial_runs(experiment, tracking_uri, method=method, search=search)
    if search is not None and not trials and search not in (names := reader.search_names(experiment, tracking_uri)):
        raise LTSearchError(f"--name {search}: no search of that name in {experiment}; searches there: "
                            f"{', '.join(names) or 'none'} (ltsearch searches lists them)")
    finals = [] if search else reader.final_runs(experiment, tracking_uri, method=method)
    by_method: dict[str, list[dict]] = {}
    for run in trials:
        by_method.setdefault(run["tags"].get(TAG_METHOD) or run["params"].get("method.name", "?"), []).append(run)
    keys_of = {m: _key_params(m, runs) for m, runs in by_method.items()}
    histories = reader.metric_histories([r["run_id"] for r in trials], metric, tracking_uri)
    rows = []
    for run in trials:
        m = run["tags"].get(TAG_METHOD) or run["params"].get("method.name", "?")
        row = _trial_row(run, metric, histories.get(run["run_id"], []), keys_of[m])
        if row is not None:
            rows.append(row)
    rows.extend(_final_rows(finals, metric, keys_of))
    if budget is not None:
        have = sorted({r["budget_epochs"] for r in rows if r["budget_epochs"] is not None})
        rows = [r for r in rows if r["budget_epochs"] == budget]
        if not rows and have:
            raise LTSearchError(f"--budget {budget}: no rows of {budget} epochs in {experiment}; budgets there: "
                                f"{', '.join(map(str, have))}")
    sign = -1 if higher_is_better(metric) else 1
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["budget"], []).append(row)
    order = sorted(grouped, key=lambda b: (-(grouped[b][0]["budget_epochs"] or 0), -len(grouped[b]), b))
    rows = []
    for b in order:
        # ties: final rows first, then a search's earlier trial (t001 before t002), as its summary and
        # its MLflow parent's best run break them; run ids only across searches
        group = sorted(grouped[b], key=lambda r: (sign * r["val"], 0 if r["kind"] == "final" else 1, r["search"],
                                                  trial_number(r), r["run_id"]))
        if top is not None:
            group = group[:max(top, 0)]
        for i, row in enumerate(group, 1):
            row["rank"] = i
        rows.extend(group)
    if reference:
        rows.extend(reference_rows(dataset, ratio, method))
    filters = " ".join(f"--{k} {v}" for k, v in (("method", method), ("name", search), ("budget", budget))
                       if v is not None)
    return Leaderboard(experiment=experiment, metric=metric, rows=rows, tracking_uri=tracking_uri, filters=filters)

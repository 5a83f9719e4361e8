"""``ltsearch confirm``: a search's top configs retrained over seeds, ranked by their mean.

A search trains each config with one seed, and at short budgets that seed moves a config's accuracy
by several points (KPS, ResNet-8, 20 epochs on CIFAR-10-LT: 2-7 pt; bench/RESULTS.md, session 9): a
search's rank 1 is partly its seed's luck. ``confirm`` takes the top ``k`` full-budget trials of one
search (:func:`top_rows`; where fewer reached the full budget, the best configs of its lower rungs, at
the full budget: :func:`full_budget_configs`), writes each one's config as ``ltsearch export`` does
(:func:`write_config`) and trains it over the seeds as ``ltsearch train --seeds`` does (the
leaderboard's ``final`` rows, linked to their trial); :func:`summarize` ranks them by the mean of
the metric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ltsearch.errors import LTSearchError
from ltsearch.reports import leaderboard
from ltsearch.reports.export import exported_yaml
from ltsearch.reports.fmt import higher_is_better, mean_std
from ltsearch.reports.output import write_text
from ltsearch.train.budget import with_budget_of
from ltsearch.train.plan import planned_epochs


def top_rows(dataset: str, search: str, *, imbalance_ratio: float | None, top: int, metric: str,
             tracking_uri: str) -> tuple[str, list[dict]]:
    """(experiment, the search's ``top`` best configs as trial rows), best first: those of its largest
    budget, then, where fewer reached it (sh keeps 1 in 4 at each rung by default), the best of each lower rung
    that went no higher, in the search's own order (a config once, at its highest rung)."""
    board = leaderboard.build(dataset, imbalance_ratio, metric=metric, tracking_uri=tracking_uri, reference=False,
                              search=search)
    rows, seen = [], set()
    for _, group in board.groups:  # the largest budget first
        for r in group:
            config = leaderboard.trial_number(r)
            if r["kind"] == "trial" and (config < 0 or config not in seen):
                seen.add(config)
                rows.append(r)
    if not rows:
        raise LTSearchError(f"--name {search}: no finished trials of that search in {board.experiment} "
                            f"({tracking_uri}); `ltsearch searches -d {dataset}` lists the searches")
    return board.experiment, rows[:top]


def full_budget_configs(rows: list[dict], configs: list[dict],
                        full_configs: list[dict | None]) -> list[tuple[dict, tuple[str, ...]]]:
    """Each row's config at its search's full budget, with its header notes. A config the search
    stopped at a lower rung keeps its knobs and takes the full budget's schedule: the config its run
    recorded for the full budget (``full_configs``: :func:`~ltsearch.reports.export.full_budget_config`),
    else (a search from before runs recorded it) the first row's budget."""
    out = []
    for row, config, recorded in zip(rows, configs, full_configs):
        if recorded is None and row["budget_epochs"] == rows[0]["budget_epochs"]:
            out.append((config, ()))
            continue
        full = recorded if recorded is not None else with_budget_of(config, configs[0])
        out.append((full, (f"# the search stopped this config at its rung of {row['budget_epochs']} epochs; "
                           f"here at the search's full budget ({planned_epochs(full)} epochs)",)))
    return out


def config_path(folder: Path, row: dict) -> Path:
    """Where the row's config goes: ``folder/<trial>.yaml`` (its seeds train into ``folder/<trial>/seed<k>``)."""
    return folder / f"{row['trial'] or row['run_id'][:8]}.yaml"


def write_config(path: Path, experiment: str, row: dict, config: dict, metric: str,
                 notes: tuple[str, ...] = ()) -> None:
    """The row's config with its provenance block, as ``ltsearch export`` writes it."""
    write_text(path, exported_yaml(config, row, experiment, metric, notes), mkdir=True)


def summarize(entries: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Each entry (``row``, ``seeds``, ``results``: one ``run_trial`` result per seed) with the mean and
    std over the seeds of ``metric`` and of ``test/acc``, best mean first."""
    out = []
    for e in entries:
        vals = [r.get(f"best/{metric}", r.get(metric)) for r in e["results"]]  # the search objective, per seed
        mean, std = mean_std(vals)
        out.append({**e, "values": vals, "mean": mean, "std": std,
                    "test_mean": mean_std([r.get("test/acc") for r in e["results"]])[0]})
    sign = -1 if higher_is_better(metric) else 1
    return sorted(out, key=lambda e: (e["mean"] is None, sign * (e["mean"] or 0.0)))

"""The searches of a store (``ltsearch searches``) and two searches or runs side by side
(``ltsearch compare A B``), from the MLflow parent and trial runs as plain dicts."""

from __future__ import annotations

import re
import time
from typing import Any

from ltsearch.errors import LTSearchError
from ltsearch.reports.fmt import higher_is_better, num, objective, same
from ltsearch.reports.leaderboard import budget_of, trial_number
from ltsearch.tracking import TAG_DATASET, TAG_METHOD, TAG_SEARCH, TAG_STATUS, reader
from ltsearch.tracking.reader import parse_param

TRIAL_STATES = ("completed", "stopped", "failed")


def _trial_status(run: dict) -> str:
    status = run["tags"].get(TAG_STATUS)
    if status:
        return status
    return {"FINISHED": "completed", "FAILED": "failed"}.get(run["status"], run["status"].lower())


def summarize(experiment: str, parent: dict | None, trials: list[dict], metric: str = "val/acc") -> dict[str, Any]:
    """One search as a row: name, method, status, trial counts, best objective, epochs consumed, date."""
    counts = {s: 0 for s in TRIAL_STATES}
    for s in config_states(trials).values():
        if s in counts:
            counts[s] += 1
    best_v, best_t = best_trial(trials, metric)
    consumed = num(parent["metrics"].get("epochs_consumed")) if parent else None
    if consumed is None:  # searches logged before the parent carried it: the trials' epochs
        consumed = sum(num(t["metrics"].get("epochs_run")) or 0 for t in trials) or None
    first = parent or (trials[0] if trials else None)
    tags = first["tags"] if first else {}
    status = (parent["tags"].get(TAG_STATUS) if parent else None) or (parent["status"].lower() if parent else "")
    start = first.get("start_time") if first else None
    return {"name": tags.get(TAG_SEARCH, ""), "method": tags.get(TAG_METHOD, ""),
            "dataset": tags.get(TAG_DATASET, experiment), "experiment": experiment, "status": status,
            **counts, "best": best_v, "best_run": best_t["run_id"] if best_t else None,
            "epochs_consumed": None if consumed is None else int(consumed),
            "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(start / 1000)) if start else "",
            "parent_run": parent["run_id"] if parent else None}


def config_states(trials: list[dict]) -> dict[Any, str]:
    """What became of each config of a search (its trial number -> state), as the search's own summary
    counts them: an sh config's rung runs are one config, ``completed`` only when its last run trained the
    search's full budget; a config that ended at a lower rung was ``stopped``."""
    last: dict[Any, dict] = {}
    for t in trials:
        n = trial_number({"trial": t.get("run_name")})
        n = n if n >= 0 else t.get("run_id")  # a run without a trial number is a config of its own
        if n not in last or (budget_of(t)["epochs"] or 0) > (budget_of(last[n])["epochs"] or 0):
            last[n] = t
    full = max(((budget_of(t)["epochs"] or 0) for t in last.values()), default=0)
    out = {}
    for n, t in last.items():
        s = _trial_status(t)
        out[n] = "stopped" if s == "completed" and (budget_of(t)["epochs"] or 0) < full else s
    return out


def best_trial(trials: list[dict], metric: str = "val/acc") -> tuple[float | None, dict | None]:
    """(objective, run) of a search's best trial, as its leaderboard ranks it: among its completed and
    ASHA-stopped runs of the largest budget (an sh search's lower rungs are other budgets), the best
    ``metric`` in its direction, the earlier trial on a tie."""
    scored = [(objective(t, metric)[0], t) for t in trials if _trial_status(t) in ("completed", "stopped")]
    scored = [(v, t) for v, t in scored if v is not None]
    if not scored:
        return None, None
    epochs = [budget_of(t)["epochs"] or 0 for _, t in scored]
    top = [(v, t) for (v, t), e in zip(scored, epochs) if e == max(epochs)]
    sign = 1.0 if higher_is_better(metric) else -1.0
    order = sorted(top, key=lambda vt: (-sign * vt[0], trial_number({"trial": vt[1].get("run_name")})))
    return order[0]


def list_searches(tracking_uri: str, experiment: str | None = None, metric: str = "val/acc") -> list[dict]:
    """Every search of the store (or of one experiment), newest first."""
    rows = []
    for exp in [experiment] if experiment else reader.list_experiments(tracking_uri):
        parents = {r["tags"].get(TAG_SEARCH): r for r in reader.search_runs(exp, tracking_uri, kind="search")}
        trials: dict[str, list[dict]] = {}
        for t in reader.search_runs(exp, tracking_uri, kind="trial"):
            trials.setdefault(t["tags"].get(TAG_SEARCH, ""), []).append(t)
        for name in sorted(set(parents) | set(trials), key=str):
            if name:
                rows.append(summarize(exp, parents.get(name), trials.get(name, []), metric))
    rows.sort(key=lambda r: r["date"], reverse=True)
    return rows


def config_diff(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, Any, Any]]:
    """``[(key, value in a, value in b)]`` for the flattened params that differ."""
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = parse_param(a.get(k)), parse_param(b.get(k))
        if not same(va, vb):
            out.append((k, va, vb))
    return out


def find(tracking_uri: str, ident: str, metric: str = "val/acc") -> tuple[str, dict, dict | None]:
    """``ident`` (a search name or a run id) -> ("search" | "run", summary or run dict, best run dict)."""
    for row in list_searches(tracking_uri, metric=metric):
        if row["name"] == ident:
            best = None
            if row["best_run"]:
                best = next(r for r in reader.search_runs(row["experiment"], tracking_uri, kind="trial",
                                                          search=ident) if r["run_id"] == row["best_run"])
            return "search", row, best
    try:
        run = reader.client(tracking_uri).get_run(ident)
    except Exception:
        run = None
    if run is None and re.fullmatch(r"[0-9a-f]{4,31}", ident):  # the short ids the tables print
        run = _run_by_prefix(tracking_uri, ident)
    if run is None:
        names = ", ".join(r["name"] for r in list_searches(tracking_uri)) or "none"
        raise LTSearchError(f"{ident!r} is neither a search nor a run id in {tracking_uri}; searches: {names}")
    d = reader.run_to_dict(run)
    return "run", d, d


def _run_by_prefix(tracking_uri: str, prefix: str):
    """The one run whose id starts with ``prefix`` (the 8 characters a leaderboard shows); None if none,
    refused if several."""
    c = reader.client(tracking_uri)
    ids = [e.experiment_id for e in c.search_experiments()]
    hits = [r for r in c.search_runs(ids, max_results=50_000) if r.info.run_id.startswith(prefix)] if ids else []
    if len(hits) > 1:
        raise LTSearchError(f"{prefix!r} starts {len(hits)} run ids ({', '.join(r.info.run_id for r in hits[:3])}, ...); "
                            f"give more of the id")
    return hits[0] if hits else None

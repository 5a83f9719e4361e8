"""What a running search shows: a live table in a terminal, one log line per event otherwise,
and the summary at the end.

Both views carry the same totals: configs done / total, runs running, elapsed time, an ETA from
the epochs still planned, and the best objective so far. Without a terminal (Slurm, nohup, a
file) each event is one plain line on stderr, flushed at once::

    [00:01:12] t003 completed  best/val/acc 78.40 (12 ep) | done 4/8, running 2, epochs 61/96, best 78.40 (t003), elapsed 00:02:10, ETA 00:01:05
"""

from __future__ import annotations

import shlex
import sys
import time
from typing import Any

import yaml
from rich.console import Console
from rich.live import Live
from rich.table import Table

from ltsearch.console import width_for
from ltsearch.search.state import RunRecord, SearchState
from ltsearch.tracking import resolve_tracking_uri
from ltsearch.tracking.names import ui_url

STATE_STYLE = {"pending": "dim", "running": "cyan", "completed": "green", "stopped": "yellow",
               "failed": "red"}


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def clock(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Progress of one search (fed by the :class:`~ltsearch.search.dispatch.Ledger`)."""

    def __init__(self, title: str, key: str, mode: str, dims: list[str], planned_epochs: int,
                 live: bool | None = None, stream=None):
        self.title, self.key, self.mode, self.dims = title, key, mode, dims
        self.planned = max(1, int(planned_epochs))
        self.stream = stream or sys.stderr
        self.live = (live is None or bool(live)) and self.stream.isatty()  # a file or pipe: line logs, never the table
        self.t0 = time.monotonic()
        self._live = None
        self._last = 0.0

    # ---- totals -----------------------------------------------------------------------
    def totals(self, state: SearchState) -> dict[str, Any]:
        runs = list(state.runs.values())
        status = {cid: state.config_status(r) for cid, r in state.latest().items()}
        best = None
        for r in runs:
            if state.config_status(r) == "completed" and r.objective is not None:
                if best is None or (r.objective > best.objective if self.mode == "max" else r.objective < best.objective):
                    best = r
        consumed = state.epochs_consumed()
        elapsed = time.monotonic() - self.t0
        planned = max(self.planned, consumed)
        eta = elapsed / consumed * (planned - consumed) if consumed else None
        return {"done": sum(v in ("completed", "stopped", "failed") for v in status.values()), "total": state.configs,
                "running": sum(r.status == "running" for r in runs), "epochs": consumed, "planned": planned,
                "best": best, "elapsed": elapsed, "eta": eta}

    def line(self, state: SearchState) -> str:
        t = self.totals(state)
        best = f"{t['best'].objective:.2f} ({t['best'].config_id})" if t["best"] else "-"
        eta = clock(t["eta"]) if t["eta"] is not None else "-"
        return (f"done {t['done']}/{t['total']}, running {t['running']}, epochs {t['epochs']}/{t['planned']}, "
                f"best {best}, elapsed {clock(t['elapsed'])}, ETA {eta}")

    # ---- events -----------------------------------------------------------------------
    def event(self, what: str, rec: RunRecord, state: SearchState) -> None:
        if self.live:
            self._draw(state, force=True)
            return
        stamp = clock(time.monotonic() - self.t0)
        detail = f"budget {rec.budget} ep" + (f", rung {rec.rung}" if state.scheduler == "sh" else "")
        if what in ("completed", "rung done", "stopped") and rec.objective is not None:
            detail = f"{self.key} {rec.objective:.2f} ({rec.epochs} ep)"
        if what == "failed":
            detail = rec.failure or "failed"
        print(f"[{stamp}] {rec.id} {what:<9} {detail} | {self.line(state)}", file=self.stream, flush=True)

    def result(self, rec: RunRecord, state: SearchState) -> None:
        if self.live:
            self._draw(state)

    def message(self, text: str) -> None:
        if self.live:
            return
        print(f"[{clock(time.monotonic() - self.t0)}] {text}", file=self.stream, flush=True)

    # ---- the live table ---------------------------------------------------------------
    def table(self, state: SearchState):
        t = Table(title=f"{self.title}\n{self.line(state)}", title_justify="left")
        for col in ["run", "state", *self.dims, "epoch", self.key]:
            t.add_column(col, justify="left" if col in ("run", "state") else "right")
        best = self.totals(state)["best"]
        for r in state.ordered():
            style = "bold" if best is not None and r.id == best.id else None
            t.add_row(r.id, f"[{STATE_STYLE.get(r.status, '')}]{r.status}[/]", *[fmt(r.values.get(d)) for d in self.dims],
                      f"{r.epochs}/{r.budget}", fmt(r.objective), style=style)
        return t

    def _draw(self, state: SearchState, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        try:
            if self._live is None:
                self._live = Live(console=Console(file=self.stream), auto_refresh=False, transient=False)
                self._live.start()
            self._live.update(self.table(state), refresh=True)
        except Exception:  # a display problem must never stop a search
            pass

    def stop(self, state: SearchState | None = None) -> None:
        if self._live is not None:
            try:
                if state is not None:
                    self._live.update(self.table(state), refresh=True)
                self._live.stop()
            except Exception:
                pass
            self._live = None


def print_summary(result, console=None) -> None:
    """The configs (sorted by the objective), the best config as YAML, where to look next."""
    console = console or Console(width=width_for(sys.stdout))
    dims = list(result.dims)
    key = f"best/{result.metric}"
    t = Table(title=f"search {result.name}: {result.method} on {result.experiment} "
                    f"({len(result.trials)} configs: "
                    + ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
                    + f"; objective {key}, {result.mode})",
              title_justify="left")
    for col in ["config", "state", *dims, "epochs", key, "test/acc"]:
        t.add_column(col, justify="left" if col in ("config", "state") else "right")
    sign = 1 if result.mode == "max" else -1
    rows = sorted(result.trials, key=lambda tr: (tr.status != "completed",
                                                 -sign * (tr.metric if tr.metric is not None else -sign * 1e18)))
    for tr in rows:
        style = "bold green" if tr.trial_id == result.best_trial_id else None
        t.add_row(tr.trial_id, tr.status, *[fmt(tr.params.get(d)) for d in dims], fmt(tr.epochs),
                  fmt(tr.metric), fmt(tr.metrics.get("test/acc")), style=style)
    console.print(t)
    if result.best_config is None:
        console.print("[red]no config finished its full budget; nothing to report[/]")
    else:
        console.print(f"[bold]best config[/] {result.best_trial_id}: {key} = {fmt(result.best_metric)}"
                      + (f", test/acc = {fmt(result.best_metrics.get('test/acc'))}"
                         if result.best_metrics.get("test/acc") is not None else ""))
        console.print(yaml.safe_dump(result.best_config, sort_keys=False, default_flow_style=False).rstrip(),
                      markup=False, highlight=False, soft_wrap=True)
        for note in result.edges:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"elapsed {clock(result.elapsed_s)}, {result.epochs_consumed} training epochs "
                  f"({result.epochs_consumed / max(1, result.full_epochs):.2f} of training every config fully)")
    line = {"markup": False, "highlight": False, "soft_wrap": True}  # commands to copy: never broken at the width
    console.print(f"MLflow: {result.tracking_uri} (experiment {result.experiment}, run {result.parent_run_id})",
                  **line)
    if result.optuna_storage:
        console.print(f"Optuna: {result.optuna_storage} (study {result.study_name})", **line)
    # the next commands read the store this search wrote: named unless it is the one they would read anyway
    # (./mlflow.db of this folder, or MLFLOW_TRACKING_URI)
    store = ("" if result.tracking_uri == resolve_tracking_uri(None)
             else f" --tracking-uri {shlex.quote(result.tracking_uri)}")
    console.print("next:", **line)
    ir = result.experiment.rsplit("-ir", 1)[1] if "-ir" in result.experiment else None
    data = f"-d {result.dataset}" + (f" -r {ir}" if ir else "")
    console.print(f"  ltsearch leaderboard {data} --name {result.name}{store}", **line)
    console.print(f"  ltsearch confirm {data} --name {result.name}{store}   # the top 3 over seeds 0,1,2: "
                  f"one seed ranked them", **line)
    console.print(f"  ltsearch export {data} --name {result.name}{store} -o best.yaml && "
                  f"ltsearch train --config best.yaml --seeds 0,1,2{store}", **line)

    if result.tracking_uri.startswith("sqlite"):
        console.print(f"  mlflow ui --backend-store-uri {shlex.quote(result.tracking_uri)}   # then open "
                      f"{ui_url('http://127.0.0.1:5000', result.experiment_id or '0')}", **line)
    elif result.tracking_uri.startswith("http"):
        console.print(f"  open {ui_url(result.tracking_uri, result.experiment_id or '0')}", **line)

"""Live rich table of a running search (a Tune callback) and the summary at the end."""

from __future__ import annotations

import time
from typing import Any

from ray.tune import Callback

from ltsearch.search.trainable import FINAL_KEY, LAST_EPOCH_KEY, sampled_values

STATE_STYLE = {"pending": "dim", "running": "cyan", "completed": "green", "stopped": "yellow",
               "failed": "red", "paused": "magenta"}


def trial_state(status: str, last_result: dict | None) -> str:
    """Ray's trial status -> ltsearch's words (completed / stopped by ASHA / failed)."""
    status = (status or "").upper()
    if status == "TERMINATED":
        return "completed" if (last_result or {}).get(FINAL_KEY) else "stopped"
    return {"ERROR": "failed", "RUNNING": "running", "PENDING": "pending", "PAUSED": "paused"}.get(status,
                                                                                                status.lower())


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class LiveTable(Callback):
    """Redraws a rich table of trials (state, params, epoch, metric, best) as results arrive."""

    def __init__(self, title: str, metric: str, mode: str, dims: list[str], max_epochs: int | None = None,
                 refresh_s: float = 0.5, console=None):
        self.title, self.metric, self.mode = title, metric, mode
        self.dims = dims
        self.max_epochs = max_epochs
        self.refresh_s = refresh_s
        self._console = console
        self._live = None
        self._last = 0.0
        self._best: dict[str, float] = {}

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_live"] = None
        state["_console"] = None
        return state

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.mode == "max" else a < b

    def table(self, trials: list) -> Any:
        from rich.table import Table

        t = Table(title=self.title, title_justify="left", expand=False, show_lines=False)
        t.add_column("trial")
        t.add_column("state")
        for d in self.dims:
            t.add_column(d, justify="right")
        t.add_column("epoch", justify="right")
        t.add_column(self.metric, justify="right")
        t.add_column("best", justify="right")
        best_id = None
        best_val = None
        for tr in trials:
            v = self._best.get(tr.trial_id)
            if v is not None and (best_val is None or self._better(v, best_val)):
                best_id, best_val = tr.trial_id, v
        for tr in trials:
            res = tr.last_result or {}
            values = sampled_values(tr.config)
            state = trial_state(tr.status, res)
            epoch = res.get("epoch", res.get(LAST_EPOCH_KEY))
            ep = "-" if epoch is None else (f"{epoch}/{self.max_epochs}" if self.max_epochs else str(epoch))
            style = "bold" if tr.trial_id == best_id else None
            t.add_row(tr.trial_id, f"[{STATE_STYLE.get(state, '')}]{state}[/]",
                      *[fmt(values.get(d)) for d in self.dims], ep, fmt(res.get(self.metric)),
                      fmt(self._best.get(tr.trial_id)), style=style)
        return t

    def _draw(self, trials: list, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.refresh_s:
            return
        self._last = now
        try:
            if self._live is None:
                from rich.console import Console
                from rich.live import Live

                self._console = self._console or Console(stderr=True)
                self._live = Live(console=self._console, auto_refresh=False, transient=False)
                self._live.start()
            self._live.update(self.table(trials), refresh=True)
        except Exception:  # a display problem must never stop a search
            pass

    def on_trial_result(self, iteration, trials, trial, result, **info):
        v = result.get(self.metric)
        if isinstance(v, (int, float)):
            old = self._best.get(trial.trial_id)
            if old is None or self._better(float(v), old):
                self._best[trial.trial_id] = float(v)
        self._draw(trials)

    def on_step_end(self, iteration, trials, **info):
        self._draw(trials)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._draw(trials, force=True)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._draw(trials, force=True)

    def on_experiment_end(self, trials, **info):
        self._draw(trials, force=True)
        self.stop()

    def stop(self) -> None:
        if self._live is not None:
            try:
                self._live.stop()
            except Exception:
                pass
            self._live = None


def print_summary(result, console=None) -> None:
    """The trials table (sorted by the metric) and the best config as YAML."""
    from rich.console import Console
    from rich.table import Table

    import sys

    import yaml

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    dims = list(result.dims)
    t = Table(title=f"search {result.name}: {result.method} on {result.experiment} "
                    f"({len(result.trials)} trials: "
                    + ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
                    + f"; metric {result.metric}, {result.mode})",
              title_justify="left")
    for col in ["trial", "state", *dims, "epochs", result.metric, "test/acc"]:
        t.add_column(col, justify="left" if col in ("trial", "state") else "right")
    sign = 1 if result.mode == "max" else -1
    rows = sorted(result.trials, key=lambda tr: (tr.status != "completed",
                                                 -sign * (tr.metric if tr.metric is not None else -sign * 1e18)))
    for tr in rows:
        style = "bold green" if tr.trial_id == result.best_trial_id else None
        t.add_row(tr.trial_id, tr.status, *[fmt(tr.params.get(d)) for d in dims], fmt(tr.epochs),
                  fmt(tr.metric), fmt(tr.metrics.get("test/acc")), style=style)
    console.print(t)
    if result.best_config is None:
        console.print("[red]no trial finished; nothing to report[/]")
        return
    console.print(f"[bold]best trial[/] {result.best_trial_id}: {result.metric} = {fmt(result.best_metric)}"
                  + (f", test/acc = {fmt(result.best_metrics.get('test/acc'))}"
                     if result.best_metrics.get("test/acc") is not None else ""))
    console.print("[bold]best config[/]:")
    console.print(yaml.safe_dump(result.best_config, sort_keys=False, default_flow_style=False).rstrip(),
                  markup=False, highlight=False, soft_wrap=True)
    console.print(f"MLflow: {result.tracking_uri} (experiment {result.experiment}, run {result.parent_run_id})")
    if result.optuna_storage:
        console.print(f"Optuna: {result.optuna_storage} (study {result.study_name})")

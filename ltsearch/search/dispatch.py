"""What runs next and what happened: a Tune searcher and a Tune callback over the search state.

:class:`Dispatcher` (a Tune ``Searcher``) hands Tune the runs of the search, in order: runs a
killed session left pending or running (same id, values and budget: ``run_trial`` resumes from
their checkpoint), then new configs asked from the Optuna study as slots free up (so TPE learns
from every finished trial), then, with ``--scheduler sh``, the promotions of each rung.

Successive halving over complete schedules (``sh``): rung ``k`` trains every surviving config's
*complete* schedule scaled to ``budgets[k]`` epochs (:func:`~ltsearch.search.request.rung_budgets`: by default one rung at 1/4
of the full budget, at least 2 epochs, or ``--rungs``; the last rung the full budget); when a rung is
done, the best ``ceil(n / eta)`` configs by the objective are
retrained from scratch at the next budget and the others are PRUNED in the study. Every rung
therefore compares configs after their lr decay and re-balancing phase (GA, DRW, lambda(t),
LORT's stage 2), not during the head-biased first part of the run. With ``--brackets B`` the
configs go through successive halving in B consecutive groups; a group samples its configs only
once the previous group's first rung is decided, so TPE learns from the PRUNED and COMPLETE
trials of the groups before it (one bracket: every config is drawn before any is told).

:class:`Ledger` (a Tune ``Callback``) writes down what happened, in the three records of a
search: the state file, MLflow (:class:`~ltsearch.search.recorder.Recorder`) and the Optuna
study (:class:`~ltsearch.search.study.Study`).
"""

from __future__ import annotations

import math
from typing import Callable

from ray.tune import Callback
from ray.tune.search import Searcher

from ltsearch.search.faults import fault_point
from ltsearch.search.recorder import Recorder, error_line, trial_error_text
from ltsearch.search.state import RunRecord, SearchState, as_plain
from ltsearch.search.study import Study
from ltsearch.search.trainable import (
    FINAL_KEY,
    LAST_EPOCH_KEY,
    RUN_KEY,
    TrialPlan,
    numeric,
    objective_key,
)



def survivors(n: int, eta: float) -> int:
    """How many of ``n`` configs a rung promotes."""
    return max(1, math.ceil(n / eta)) if n else 0


class Dispatcher(Searcher):
    """Suggests the search's runs to Tune (see the module docstring)."""

    def __init__(self, state: SearchState, study: Study | None, plan: TrialPlan, recorder: Recorder,
                 grid: list[dict] | None, eta: float, save: Callable[[], None], progress=None):
        super().__init__(metric=objective_key(plan.space.metric), mode=plan.space.mode)
        self.state, self.study, self.plan, self.recorder = state, study, plan, recorder
        self.grid, self.eta, self.persist, self.progress = grid, eta, save, progress
        self.queue = [r.id for r in state.ordered() if r.status in ("pending", "running")]
        for rid in self.queue:
            state.runs[rid].status = "pending"

    def __getstate__(self) -> dict:
        # Tune pickles its searcher with the experiment state; the progress display (a console
        # stream) stays with the driver's own instance
        return {**self.__dict__, "progress": None}

    @property
    def sh(self) -> bool:
        return self.state.scheduler == "sh"

    def suggest(self, trial_id: str):
        rec = self._next()
        if rec is None:
            return None  # wait: the current rung is still training
        if rec is Searcher.FINISHED:
            return Searcher.FINISHED
        rec.status = "running"
        rec.tune_ids.append(trial_id)
        self.persist()
        return {**rec.values, RUN_KEY: {"id": rec.id, "budget": rec.budget}}

    def on_trial_complete(self, trial_id: str, result=None, error: bool = False) -> None:
        pass  # the Ledger records outcomes; this searcher only reads the state

    def save(self, checkpoint_path: str) -> None:
        pass  # the search state file is the resume state; nothing for Tune to pickle

    def restore(self, checkpoint_path: str) -> None:
        pass

    # ---- what next ------------------------------------------------------------------
    def _next(self):
        if self.queue:
            return self.state.runs[self.queue.pop(0)]
        asked = len(self.state.config_ids())
        if not self.sh:
            return self._new_config(asked, 0) if asked < self.state.configs else Searcher.FINISHED
        for bracket in sorted({r.bracket for r in self.state.runs.values()}):
            self._decide(bracket)
        if self.queue:
            return self.state.runs[self.queue.pop(0)]
        if asked < self.state.configs:
            bracket = asked // self.per_bracket
            if bracket == 0 or f"{bracket - 1}:0" in self.state.decided:
                return self._new_config(asked, bracket)
            return None  # the next bracket samples once the study knows this one's first rung
        if any(r.status in ("pending", "running") for r in self.state.runs.values()):
            return None
        return Searcher.FINISHED

    @property
    def per_bracket(self) -> int:
        return math.ceil(self.state.configs / max(1, self.state.brackets))

    def _new_config(self, index: int, bracket: int) -> RunRecord:
        point = self.grid[index] if self.grid is not None else None
        if self.study is not None:
            number, values = self.study.ask(fixed=point)
        else:
            number, values = None, dict(point or {})
        cid = f"t{index:03d}"
        budget = self.plan.full_budget(values)
        if self.sh and len(self.state.budgets) > 1:
            budget = self.state.budgets[0]
        return self.state.add(RunRecord(id=cid, config_id=cid, number=number, values=as_plain(values),
                                        budget=int(budget), bracket=bracket))

    def _decide(self, bracket: int) -> None:
        """When ``bracket``'s current rung has finished, promote its best ``ceil(n / eta)`` configs
        to the next budget and prune the others in the study."""
        runs = [r for r in self.state.ordered() if r.bracket == bracket]
        rung = max(r.rung for r in runs)
        runs = [r for r in runs if r.rung == rung]
        size = min(self.per_bracket, self.state.configs - bracket * self.per_bracket)
        key = f"{bracket}:{rung}"
        if key in self.state.decided or any(r.status in ("pending", "running") for r in runs) or (
                rung == 0 and len(runs) < size):
            return
        self.state.decided.append(key)
        if rung + 1 >= len(self.state.budgets):
            self.persist()
            return
        done = [r for r in runs if r.status == "completed" and r.objective is not None]
        sign = 1 if self.plan.space.mode == "max" else -1
        done.sort(key=lambda r: (-sign * r.objective, r.id))
        keep = done[:survivors(len(runs), self.eta)]
        for r in runs:
            r.promoted = r in keep
            self.recorder.promoted(r)
            if not r.promoted and r.status == "completed" and self.study is not None and r.number is not None:
                self.study.finish(r.number, "pruned")
        last = rung + 2 == len(self.state.budgets)
        if self.progress is not None:
            stopped = [r.id for r in runs if not r.promoted]
            self.progress.message(f"rung {rung} ({runs[0].budget} ep) decided: {len(keep)} promoted "
                                  f"({', '.join(r.config_id for r in keep) or 'none'}), {len(stopped)} stopped")
        for r in keep:
            budget = self.plan.full_budget(r.values) if last else self.state.budgets[rung + 1]
            nxt = self.state.add(RunRecord(id=f"{r.config_id}-r{rung + 1}", config_id=r.config_id, number=r.number,
                                           values=r.values, budget=int(budget), rung=rung + 1, bracket=bracket))
            self.queue.append(nxt.id)
        self.persist()


def planned_sh_epochs(configs: int, brackets: int, budgets: list[int], eta: float) -> int:
    """Epochs an sh search trains when nothing fails (every bracket through every rung)."""
    per = math.ceil(configs / max(1, brackets))
    total, left = 0, configs
    while left > 0:
        n = min(per, left)
        left -= n
        for b in budgets:
            total += n * b
            n = survivors(n, eta)
    return total


class Ledger(Callback):
    """Records every run's events in the state file, MLflow and the Optuna study."""

    def __init__(self, state: SearchState, study: Study | None, recorder: Recorder, metric: str, mode: str,
                 save: Callable[[], None], progress=None):
        self.state, self.study, self.recorder = state, study, recorder
        self.key, self.mode, self.save, self.progress = objective_key(metric), mode, save, progress

    def __getstate__(self):  # Tune pickles its callbacks with the experiment; nothing live goes along
        return {}

    def record(self, trial) -> RunRecord | None:
        run = (trial.config or {}).get(RUN_KEY) or {}
        return self.state.runs.get(run.get("id"))

    def _last_rung(self, rec: RunRecord) -> bool:
        return self.state.scheduler != "sh" or rec.rung == len(self.state.budgets) - 1

    # ---- Tune hooks -------------------------------------------------------------------
    def on_trial_start(self, iteration, trials, trial, **info):
        rec = self.record(trial)
        if rec is None:
            return
        self.recorder.started(rec, trial.trial_id)
        if self.study is not None and rec.number is not None:
            self.study.link(rec.number, rec.config_id, rec.run_id, trial.trial_id)
        self.save()
        self._event("started", rec)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        rec = self.record(trial)
        if rec is None:
            return
        epoch = result.get("epoch", result.get(LAST_EPOCH_KEY))
        if epoch is None:
            return
        epoch = int(epoch)
        rec.epochs = max(rec.epochs, epoch)
        if result.get(FINAL_KEY):  # its last epoch comes from metrics.jsonl when the run is recorded
            self.recorder.node(rec, result)
        else:
            self.recorder.epoch(rec, epoch, result)
        value = result.get(self.key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            rec.objective = float(value)
            if self.study is not None and rec.number is not None and self.state.scheduler != "sh":
                self.study.report(rec.number, epoch, float(value))
        if result.get(FINAL_KEY):
            rec.final = numeric({k: v for k, v in result.items() if not k.startswith("config")})
            if result.get("val_protocol"):
                rec.final["val_protocol"] = result["val_protocol"]
        if self.progress is not None:
            self.progress.result(rec, self.state)
        fault_point("epoch")

    def on_trial_complete(self, iteration, trials, trial, **info):
        rec = self.record(trial)
        if rec is None:
            return
        self.complete(rec, completed=bool((trial.last_result or {}).get(FINAL_KEY)))

    def on_trial_error(self, iteration, trials, trial, **info):
        rec = self.record(trial)
        if rec is None:
            return
        self.fail(rec, error_line(trial_error_text(trial)))

    # ---- outcomes (also used by the engine's reconciliation) --------------------------
    def complete(self, rec: RunRecord, completed: bool) -> None:
        rec.status = "completed" if completed else "stopped"
        if completed and isinstance(rec.final.get(self.key), (int, float)):
            rec.objective = float(rec.final[self.key])
            rec.epochs = int(rec.final.get(LAST_EPOCH_KEY) or rec.final.get("epochs_run") or rec.epochs)
        self.save()
        self.recorder.finished(rec, rec.final)
        if self.study is not None and rec.number is not None:
            if self.state.scheduler == "sh" and completed and rec.objective is not None:
                self.study.report(rec.number, rec.budget, rec.objective)
            if not completed:
                self.study.finish(rec.number, "pruned")
            elif self._last_rung(rec):
                self.study.finish(rec.number, "complete", rec.objective)
        self._event(("completed" if self._last_rung(rec) else "rung done") if completed else "stopped", rec)
        fault_point("run-done")

    def fail(self, rec: RunRecord, reason: str) -> None:
        rec.status, rec.failure = "failed", reason
        self.save()
        self.recorder.finished(rec, None)
        if self.study is not None and rec.number is not None:
            self.study.finish(rec.number, "fail")
        self._event("failed", rec)

    def _event(self, what: str, rec: RunRecord) -> None:
        if self.progress is not None:
            self.progress.event(what, rec, self.state)


def trial_dir_name(trial) -> str:
    """Tune's own folder of a run: the run's id (``t003``, ``t003-r1``)."""
    run = (trial.config or {}).get(RUN_KEY) or {}
    return str(run.get("id") or trial.trial_id)

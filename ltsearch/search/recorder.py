"""MLflow records of a search: its parent run and one child run per dispatched run.

All writes happen in the driver, one at a time, so concurrent trials never contend for the
(sqlite) store. The one exception is the trials' figures: one background thread draws them and
copies them to the run's artifacts (matplotlib takes about 2 s of CPU a trial), so Tune's event
loop starts the next trial meanwhile; :meth:`Recorder.drain` waits for them. Whose figures
(``--figures``): ``all`` as each trial finishes; ``best`` the search's best run, at its end;
``auto`` all when the machine has a CPU the trials leave free, else the best (on a machine the
trials fill, drawing takes their CPU: bench P1); ``none``. ``ltsearch figures`` draws the rest
later. Child runs are keyed by the run's id in the search state (``t003``, ``t003-r1``;
tag ``ltsearch.trial_id``), which survives a resume, so a resumed search continues its runs
instead of creating new ones. The trial folder's ``metrics.jsonl`` is the truth: when a run
finishes (or a resumed search reconciles), every epoch it holds that MLflow lacks is logged,
so MLflow's history equals the file epoch for epoch, each step once.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ltsearch.config import dump_yaml, flatten
from ltsearch.errors import LTSearchError
from ltsearch.methods import get_method
from ltsearch.search.space import get_path
from ltsearch.search.state import RunRecord, inside
from ltsearch.search.trainable import FINAL_KEY, TrialPlan, is_metric
from ltsearch.tracking import (
    TAG_BEST_RUN,
    TAG_DATASET,
    TAG_FAILURE,
    TAG_KIND,
    TAG_METHOD,
    TAG_NODE,
    TAG_PAPER_DEFAULT,
    TAG_SEARCH,
    TAG_SEED,
    TAG_STATUS,
    TAG_TRIAL_ID,
    TAG_VAL_PROTOCOL,
)
from ltsearch.tracking.artifacts import (
    has_figures,
    log_search_importance,
    log_training_dataset,
    log_trial_figures,
)
from ltsearch.tracking.names import STOPPED_RUN_STATUS
from ltsearch.tracking.outputs import CONFUSION_FILE, FULL_BUDGET_CONFIG_FILE
from ltsearch.tracking.writer import TrackingWriter, search_tags

TAG_BUDGET = "ltsearch.budget"  # planned epochs of the run (all stages)
TAG_RUNG = "ltsearch.rung"  # sh: the rung (0 = first)
TAG_CONFIG = "ltsearch.config_id"  # the config (one Optuna trial) the run trains
TAG_PROMOTED = "ltsearch.promoted"  # sh: selected for the next rung
TAG_OPTUNA = "ltsearch.optuna_trial"  # Optuna trial number
TAG_TUNE = "ltsearch.tune_trial_id"  # Ray Tune trial id of the last session that ran it
TAG_SCHEDULER = "ltsearch.scheduler"


def error_line(text: str | None) -> str:
    """The last meaningful line of a traceback (``TrialDivergedError: loss became nan ...``)."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln or "Exception" in ln:
            return ln[:500]
    return (lines[-1] if lines else "unknown error")[:500]


def trial_error_text(trial) -> str:
    try:
        err = trial.get_error()
        if err is not None:
            return str(err)
    except Exception:
        pass
    try:
        path = trial.error_file
        if path and Path(path).is_file():
            return Path(path).read_text()
    except Exception:
        pass
    return "trial failed"


def read_jsonl(path: Path, root: Path) -> list[dict]:
    """The epochs a trial wrote (a torn last line from a kill is skipped)."""
    if inside(path, root) is None:
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("epoch"), int):
            out.append(row)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal config values, floats up to noise (a grid point 0.1 vs the paper's 0.1)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def paper_values(plan: TrialPlan) -> dict | None:
    """The search's paper point (the first trial a study enqueues: every searched knob at the
    paper's value) when it is the paper's setting, else None: a searched knob's paper value lies
    outside its range (it is sampled then), or a knob is fixed (``--fix``, ``--set``) away from the
    space's recipe (its preset). The budget (``epochs``) is the run's, not a knob."""
    space = plan.space
    point = space.paper_point(plan.base_config)
    if any(d.name not in point for d in space.searched if space.active(d, point)):
        return None
    recipe = space.base_config()  # the space's base over the preset, without the run's flags
    defaults = get_method(space.method).defaults(space.dataset)
    for d in space.dims:
        if d.path == "epochs" or (d.when is not None and not space.active(d, point)):
            continue
        paper = d.default if d.default is not None else get_path(recipe, d.path)
        if paper is None and d.path.startswith("method.params."):
            paper = defaults.get(d.name)
        if not _same(point[d.name] if d.searched else d.value, paper):
            return None
    return point


def lowest_priority() -> None:
    """Run the calling thread at the lowest CPU priority (Linux: per-thread nice 19), so figures
    are drawn in the CPU time a trial on the same machine leaves idle (bench P1). Elsewhere a
    thread id is no process id (it could name another process): drawn at normal priority."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except OSError:  # not allowed: drawn at normal priority
        pass


def live_figures(mode: str, cpus: float, concurrent: int, cpus_per_trial: float) -> bool:
    """Whether each run's figures are drawn as it finishes (else only the best run's, at the end):
    always with ``all``; with ``auto`` when ``concurrent`` trials of ``cpus_per_trial`` leave at
    least one of the ``cpus`` free."""
    return mode == "all" or (mode == "auto" and cpus - concurrent * cpus_per_trial >= 1)


class Recorder:
    """The search's MLflow parent run and its child runs (one per :class:`RunRecord`)."""

    def __init__(self, writer: TrackingWriter, experiment: str, name: str, method: str, plan: TrialPlan,
                 seed: int, scheduler: str, val_protocol: str | None, figures: str = "auto"):
        self.writer, self.experiment, self.name, self.method = writer, experiment, name, method
        self.figures = figures  # auto | all | best | none (confusion.csv is logged whatever it is)
        self.live = figures == "all"  # draw each run's figures as it finishes (auto: set by the engine)
        self.plan, self.seed, self.scheduler, self.val_protocol = plan, seed, scheduler, val_protocol
        self.experiment_id = writer.experiment_id(experiment)
        self.parent_id: str | None = None
        self._steps: dict[str, set[int]] = {}  # run id -> epochs logged
        self._nodes: set[str] = set()
        self._paper: dict | None | bool = False  # the paper point (False: not computed yet)
        self._figures: ThreadPoolExecutor | None = None  # draws finished trials' figures
        self._pending: list[Future] = []

    def __getstate__(self) -> dict:  # pickled with Tune's searcher: the drawing thread stays here
        return {**self.__dict__, "_figures": None, "_pending": []}

    def draw_figures(self, run_id: str, trial_dir: Path) -> None:
        """Draw and log a trial's PNGs in the background (:func:`log_trial_figures` never raises)."""
        if self._figures is None:
            self._figures = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ltsearch-figures",
                                               initializer=lowest_priority)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._figures.submit(log_trial_figures, self.writer, run_id, trial_dir,
                                                  confusion_csv=False))

    def draw_best(self, rec: RunRecord | None) -> None:
        """At the end of a search whose runs were not drawn as they finished (``best``, or ``auto``
        on a full machine): the best run's figures, unless it has them already."""
        if rec is None or rec.run_id is None or self.live or self.figures not in ("auto", "best"):
            return
        out = self.plan.out_dir(rec.id)
        if out.is_dir() and not out.is_symlink() and not has_figures(self.writer, rec.run_id):
            self.draw_figures(rec.run_id, out)

    def drain(self) -> None:
        """Wait for every figure still being drawn."""
        for future in self._pending:
            future.result()
        self._pending = []

    def is_paper_default(self, cfg: dict, budget: int | None) -> bool:
        """Whether ``cfg`` is the config of the search's paper point at ``budget``."""
        if self._paper is False:
            try:
                self._paper = paper_values(self.plan)
            except LTSearchError:  # a space without a paper setting: never marked
                self._paper = None
        return self._paper is not None and _same(cfg, self.plan.config_for(self._paper, budget))

    # ---- the parent run ---------------------------------------------------------------
    def find_parent(self) -> str | None:
        run = self.writer.find_search_run(self.experiment_id, self.name)
        return run.info.run_id if run is not None else None

    def open_parent(self, params: dict[str, Any], space_yaml: str, base_yaml: str) -> str:
        """Create the parent run, or reopen the one a killed session left (found by its tag)."""
        rid = self.find_parent()
        if rid is None:
            rid = self.writer.create_run(self.experiment_id, self.name, search_tags(
                self.name, self.method, self.experiment,
                **{TAG_STATUS: "running", TAG_VAL_PROTOCOL: self.val_protocol, TAG_SCHEDULER: self.scheduler}))
            self.writer.log_params(rid, params)
            self.writer.log_text(rid, space_yaml, "space.yaml")
            self.writer.log_text(rid, base_yaml, "base_config.yaml")
            log_training_dataset(self.writer, rid, self.plan.base_config["dataset"])
        else:
            self.writer.reopen(rid)
            self.writer.set_tags(rid, {TAG_STATUS: "running"})
        self.parent_id = rid
        return rid

    def close_parent(self, summary: dict[str, float] | None, best_run: str | None, best_config: dict | None,
                     status: str, metric: str = "val/acc") -> None:
        """End the parent: ``completed`` with the summary (written once) and the parameter
        importance plot, ``stopped`` or ``failed``."""
        rid = self.parent_id
        if rid is not None and status == "completed":  # while the last figures are drawn
            log_search_importance(self.writer, rid, self.experiment, self.name, metric)
        self.drain()
        if rid is None:
            return
        if summary is not None and not self.writer.logged_steps(rid, "trials/total"):
            self.writer.log_metrics(rid, summary, step=0)
        tags: dict[str, Any] = {TAG_STATUS: status}
        if best_run:
            tags[TAG_BEST_RUN] = best_run
        self.writer.set_tags(rid, tags)
        if best_config is not None:
            self.writer.log_text(rid, dump_yaml(best_config), "best_config.yaml")
        self.writer.end_run(rid, {"completed": "FINISHED", "stopped": "KILLED"}.get(status, "FAILED"))

    # ---- child runs -------------------------------------------------------------------
    def child_runs(self) -> dict[str, Any]:
        return self.writer.child_runs(self.experiment_id, self.parent_id)

    def run_for(self, rec: RunRecord) -> str:
        """The child run of ``rec`` (created on first use; found again after a resume)."""
        if rec.run_id is None:
            existing = self.child_runs().get(rec.id)
            if existing is not None:
                rec.run_id = existing.info.run_id
            else:
                cfg = self.plan.config_for(rec.values, rec.budget)
                tags = {TAG_KIND: "trial", TAG_SEARCH: self.name, TAG_METHOD: self.method,
                        TAG_DATASET: self.experiment, TAG_STATUS: "running", TAG_TRIAL_ID: rec.id,
                        TAG_CONFIG: rec.config_id, TAG_BUDGET: rec.budget, TAG_OPTUNA: rec.number,
                        TAG_SEED: cfg.get("seed", self.seed), TAG_VAL_PROTOCOL: self.val_protocol,
                        TAG_SCHEDULER: self.scheduler}
                if self.scheduler == "sh":
                    tags[TAG_RUNG] = rec.rung
                if self.is_paper_default(cfg, rec.budget):
                    tags[TAG_PAPER_DEFAULT] = "true"
                rec.run_id = self.writer.create_run(self.experiment_id, rec.id, tags, parent=self.parent_id)
                self.writer.log_params(rec.run_id, flatten(cfg))
                self._steps[rec.run_id] = set()
        if rec.run_id not in self._steps:
            self._steps[rec.run_id] = self.writer.logged_steps(rec.run_id, "train/loss")
        return rec.run_id

    def started(self, rec: RunRecord, tune_id: str) -> None:
        rid = self.run_for(rec)
        self.writer.set_tags(rid, {TAG_STATUS: "running", TAG_TUNE: tune_id})
        self.writer.reopen(rid)

    def epoch(self, rec: RunRecord, step: int, result: dict) -> None:
        """One epoch's metrics (skipped when that epoch is already in MLflow)."""
        rid = self.run_for(rec)
        self.node(rec, result)
        done = self._steps[rid]
        if step in done:
            return
        self.writer.log_metrics(rid, {k: v for k, v in result.items() if is_metric(k, v)}, step=step)
        done.add(step)

    def node(self, rec: RunRecord, result: dict) -> None:
        """Tag the Ray node the run reports from (once per session)."""
        node = result.get("node_id")
        if node and rec.id not in self._nodes:
            self._nodes.add(rec.id)
            self.writer.set_tags(self.run_for(rec), {TAG_NODE: node})

    def sync_epochs(self, rec: RunRecord) -> list[dict]:
        """Log every epoch of the trial's ``metrics.jsonl`` that MLflow does not have yet."""
        out = self.plan.out_dir(rec.id)
        rows = read_jsonl(out / "metrics.jsonl", out)
        for row in rows:
            self.epoch(rec, int(row["epoch"]), row)
        return rows

    def finished(self, rec: RunRecord, final: dict | None) -> None:
        """Final metrics, status tags, artifacts, run end. Idempotent (reconciliation uses it too)."""
        rid = self.run_for(rec)
        run = self.writer.client.get_run(rid)
        if run.info.status != "RUNNING" and run.data.tags.get(TAG_STATUS) in ("completed", "stopped", "failed"):
            return
        rows = self.sync_epochs(rec)
        if final and rec.status == "completed":
            last = final.get("last_epoch")
            per_epoch = set(rows[-1]) if rows else set()  # already in the history at the last step
            metrics = {k: v for k, v in final.items() if k not in per_epoch and is_metric(k, v)
                       and (k.startswith(("test/", "best/", "last/")) or k == "epochs_run")}
            self.writer.log_metrics(rid, metrics, step=int(last or rec.epochs or 0))
            if final.get("val_protocol"):
                self.writer.set_tags(rid, {TAG_VAL_PROTOCOL: final["val_protocol"]})
        elif rec.status == "stopped" and rec.epochs:
            self.writer.log_metrics(rid, {"epochs_run": rec.epochs}, step=rec.epochs)
        tags: dict[str, Any] = {TAG_STATUS: rec.status}
        if rec.failure:
            tags[TAG_FAILURE] = rec.failure
        self.writer.set_tags(rid, tags)
        out = self.plan.out_dir(rec.id)
        cfg_file = inside(out / "config.yaml", out)
        if cfg_file is not None:
            self.writer.log_artifact(rid, cfg_file)
        else:
            self.writer.log_text(rid, dump_yaml(self.plan.config_for(rec.values, rec.budget)), "config.yaml")
        if rec.budget != self.plan.full_budget(rec.values):  # a lower sh rung: what `confirm` retrains
            self.writer.log_text(rid, dump_yaml(self.plan.config_for(rec.values)), FULL_BUDGET_CONFIG_FILE)
        per_class = inside(out / "per_class.csv", out)
        if per_class is not None:
            self.writer.log_artifact(rid, per_class)
        if (confusion := inside(out / CONFUSION_FILE, out)) is not None:
            self.writer.log_artifact(rid, confusion)
        if self.live and out.is_dir() and not out.is_symlink():
            self.draw_figures(rid, out)
        log_training_dataset(self.writer, rid, self.plan.base_config["dataset"])
        end = {"failed": "FAILED", "stopped": STOPPED_RUN_STATUS}.get(rec.status, "FINISHED")
        if rec.status == "stopped":  # visibly stopped in the runs table: its name and its status
            self.writer.client.update_run(rid, name=f"{rec.id} stopped@e{rec.epochs}")
        self.writer.end_run(rid, end)

    def promoted(self, rec: RunRecord) -> None:
        if rec.run_id:
            self.writer.set_tags(rec.run_id, {TAG_PROMOTED: str(rec.promoted).lower()})

    def interrupted(self, rec: RunRecord) -> None:
        """A run cut off by a stop of the driver: KILLED in MLflow (reopened when resumed)."""
        if rec.run_id:
            self.sync_epochs(rec)
            self.writer.set_tags(rec.run_id, {TAG_STATUS: "interrupted"})
            self.writer.end_run(rec.run_id, "KILLED")

    def drop_unknown(self, known: set[str]) -> None:
        """Delete child runs whose id the search state never recorded (created, then killed)."""
        orphans = [run.info.run_id for rid, run in self.child_runs().items() if rid not in known]
        if orphans:
            self.writer.delete_runs(orphans)

    def final_of(self, rec: RunRecord) -> dict:
        """Final metrics a killed driver never received, read back from the trial's result.json."""
        out = self.plan.out_dir(rec.id)
        path = inside(out / "result.json", out)
        if path is None:
            return {}
        try:
            data = json.loads(path.read_text())
        except ValueError:
            return {}
        data = {k: v for k, v in data.items() if isinstance(v, (int, float, str))}
        data[FINAL_KEY] = 1
        data.setdefault("last_epoch", data.get("epochs_run"))
        return data

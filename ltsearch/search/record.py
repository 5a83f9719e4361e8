"""Driver-side MLflow logging of trials (a Ray Tune callback).

All writes happen in the driver process, one at a time, so concurrent trials never contend
for the (sqlite) store. Child runs are keyed by Tune's trial id (``TAG_TRIAL_ID``): a resumed
search finds and continues them instead of creating new ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.tune import Callback

from ltsearch.config import dump_yaml, flatten
from ltsearch.search.display import trial_state
from ltsearch.search.trainable import (FINAL_KEY, LAST_EPOCH_KEY, NODE_KEY, PROTOCOL_KEY, TrialPlan, is_metric,
                                       sampled_values)
from ltsearch.tracking import (TAG_DATASET, TAG_FAILURE, TAG_KIND, TAG_METHOD, TAG_NODE, TAG_SEARCH, TAG_SEED,
                               TAG_STATUS, TAG_TRIAL_ID, TAG_VAL_PROTOCOL)
from ltsearch.tracking.artifacts import log_training_dataset, log_trial_figures
from ltsearch.tracking.names import mark_stopped, trial_run_name
from ltsearch.tracking.writer import TrackingWriter


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


class MlflowTrialLogger(Callback):
    """One nested child run per trial: flattened config params, per-epoch metrics (step =
    epoch), final metrics, status tags, config.yaml and per_class.csv artifacts."""

    def __init__(self, writer: TrackingWriter, experiment_id: str, parent_run_id: str, plan: TrialPlan,
                 search: str, dataset_tag: str, val_protocol: str | None, seed: int):
        self.writer = writer
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.plan = plan
        self.search = search
        self.dataset_tag = dataset_tag
        self.val_protocol = val_protocol
        self.seed = seed
        self._runs: dict[str, str] | None = None  # trial id -> run id
        self._done_steps: dict[str, set[int]] = {}
        self._node_set: set[str] = set()
        self._finished: set[str] = set()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_runs"] = None
        state["_done_steps"] = {}
        state["_node_set"] = set()
        state["_finished"] = set()
        return state

    # ---- runs -------------------------------------------------------------------
    def _load(self) -> dict[str, str]:
        if self._runs is None:
            existing = self.writer.child_runs(self.experiment_id, self.parent_run_id)
            self._runs = {tid: run.info.run_id for tid, run in existing.items()}
            for tid, run in existing.items():
                if run.data.tags.get(TAG_STATUS) in ("completed", "stopped", "failed"):
                    self._finished.add(tid)
        return self._runs

    def run_id(self, trial_id: str, config: dict) -> str:
        runs = self._load()
        if trial_id in runs:
            rid = runs[trial_id]
            if trial_id not in self._done_steps:
                self._done_steps[trial_id] = self.writer.logged_steps(rid, "train/loss")
            return rid
        cfg = self.plan.config_for(config)
        tags = {TAG_KIND: "trial", TAG_SEARCH: self.search, TAG_METHOD: cfg["method"]["name"],
                TAG_DATASET: self.dataset_tag, TAG_STATUS: "running", TAG_TRIAL_ID: trial_id,
                TAG_SEED: cfg.get("seed", self.seed), TAG_VAL_PROTOCOL: self.val_protocol}
        rid = self.writer.create_run(self.experiment_id, trial_run_name(trial_id, index=len(runs)), tags,
                                     parent=self.parent_run_id)
        self.writer.log_params(rid, flatten(cfg))
        runs[trial_id] = rid
        self._done_steps[trial_id] = set()
        return rid

    # ---- Tune hooks ---------------------------------------------------------------
    def on_trial_start(self, iteration, trials, trial, **info):
        rid = self.run_id(trial.trial_id, trial.config)
        if trial.trial_id in self._finished:  # re-run of a trial the killed driver had finished
            self._finished.discard(trial.trial_id)
        self.writer.set_tags(rid, {TAG_STATUS: "running"})
        self.writer.reopen(rid)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        rid = self.run_id(trial.trial_id, trial.config)
        node = result.get(NODE_KEY)
        if node and trial.trial_id not in self._node_set:
            self._node_set.add(trial.trial_id)
            self.writer.set_tags(rid, {TAG_NODE: node})
        step = result.get("epoch", result.get(LAST_EPOCH_KEY))
        step = int(step) if step is not None else 0
        done = self._done_steps.setdefault(trial.trial_id, set())
        metrics = {k: v for k, v in result.items() if is_metric(k, v)}
        if result.get(FINAL_KEY):
            if result.get(PROTOCOL_KEY):
                self.writer.set_tags(rid, {TAG_VAL_PROTOCOL: result[PROTOCOL_KEY]})
            if step in done:  # the epoch was logged before an interruption: final metrics only
                metrics = {k: v for k, v in metrics.items() if k.startswith(("test/", "best/")) or k == "epochs_run"}
        elif step in done:
            return
        metrics.pop(FINAL_KEY, None)
        self.writer.log_metrics(rid, metrics, step=step)
        done.add(step)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.finish(trial.trial_id, trial.config, trial_state(trial.status or "TERMINATED", trial.last_result),
                    trial.last_result or {})

    def on_trial_error(self, iteration, trials, trial, **info):
        self.finish(trial.trial_id, trial.config, "failed", trial.last_result or {},
                    failure=error_line(trial_error_text(trial)))

    def finish(self, trial_id: str, config: dict, status: str, last: dict, failure: str | None = None) -> None:
        """Status tag, artifacts, run end. Idempotent (also used to reconcile after a resume)."""
        if trial_id in self._finished:
            return
        rid = self.run_id(trial_id, config)
        if status not in ("completed", "stopped", "failed"):
            status = "completed" if last.get(FINAL_KEY) else "stopped"
        tags: dict[str, Any] = {TAG_STATUS: status}
        if failure:
            tags[TAG_FAILURE] = failure
        self.writer.set_tags(rid, tags)
        end = "FAILED" if status == "failed" else "FINISHED"
        if status == "stopped":
            epochs = last.get("epoch", last.get(LAST_EPOCH_KEY))
            end = mark_stopped(self.writer, rid, trial_id, epochs)
            if epochs is not None:
                self.writer.log_metrics(rid, {"epochs_run": epochs}, step=int(epochs))
        out = self.plan.out_dir(trial_id)
        if (out / "config.yaml").is_file():
            self.writer.log_artifact(rid, out / "config.yaml")
        else:
            self.writer.log_text(rid, dump_yaml(self.plan.config_for(config)), "config.yaml")
        self.writer.log_artifact(rid, out / "per_class.csv")
        log_trial_figures(self.writer, rid, out)
        log_training_dataset(self.writer, rid, self.plan.base_config["dataset"])
        self.writer.end_run(rid, end)
        self._finished.add(trial_id)

    def values(self, config: dict) -> dict:
        return sampled_values(config)

"""The Ray Tune function trainable: one dispatched run -> one ``run_trial`` in its own folder.

Tune's config holds the sampled values plus ``RUN_KEY`` = ``{"id", "budget"}`` from the search's
state (:mod:`ltsearch.search.state`). The run trains the config's *complete* schedule scaled to
``budget`` (:func:`ltsearch.train.budget.scale_to_budget`; the full budget is the config as is).

Per-epoch metrics go to Tune with ``epoch`` as ASHA's time attribute and ``best/<metric>`` (the
search objective so far, :data:`objective_key`) as what ASHA compares. The last epoch's metrics
travel with the final report (test metrics, ``ltsearch/final``) *without* ``epoch``, so ASHA
never stops a run at its very last epoch, between training and test evaluation: a run is either
stopped early ("stopped") or runs to the end and is evaluated ("completed").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltsearch.search.space import SearchSpace
from ltsearch.train import planned_epochs, run_trial
from ltsearch.train.budget import scale_to_budget

FINAL_KEY = "ltsearch/final"
LAST_EPOCH_KEY = "last_epoch"
NODE_KEY = "node_id"
PROTOCOL_KEY = "val_protocol"
RUN_KEY = "ltsearch/run"
NON_METRIC_KEYS = {
    "epoch", FINAL_KEY, LAST_EPOCH_KEY, NODE_KEY, PROTOCOL_KEY, RUN_KEY, "done", "trial_id", "experiment_tag",
    "training_iteration", "time_total_s", "time_this_iter_s", "timestamp", "date", "pid", "hostname",
    "node_ip", "time_since_restore", "iterations_since_restore", "timesteps_since_restore",
    "timesteps_total", "episodes_total", "checkpoint_dir_name", "should_checkpoint", "experiment_id",
}


def objective_key(metric: str) -> str:
    """The search objective: the best-epoch value of ``metric`` (``best/val/acc``).

    Defined once. It is what the trial reports every epoch (the best so far), what ASHA and
    ``sh`` compare, the value told to Optuna, the live table's and the summary's number, the
    MLflow parent's best, the leaderboard's rank, ``importance``, ``export --rank`` and the
    heatmap cells.
    """
    return f"best/{metric}"


@dataclass
class TrialPlan:
    """Everything a run needs besides its sampled values (plain, picklable data)."""

    space: SearchSpace
    base_config: dict
    trials_dir: str
    cpus_per_trial: float = 1.0
    cache_dir: str | None = None  # decoupled methods: one stage-1 backbone per distinct stage-1 config

    def config_for(self, values: dict, budget: int | None = None) -> dict:
        """The full trial config of ``values``, its complete schedule scaled to ``budget`` epochs
        (with this machine's ``cache_dir``, which the search's portable base config leaves out)."""
        cfg = self.space.config_for(values, self.base_config)
        if cfg.get("cache_dir") is None and self.cache_dir:
            cfg["cache_dir"] = self.cache_dir
        if budget is not None and budget != planned_epochs(cfg):
            cfg = scale_to_budget(cfg, int(budget))
        return cfg

    def full_budget(self, values: dict) -> int:
        return int(planned_epochs(self.space.config_for(values, self.base_config)))

    def out_dir(self, run_id: str) -> Path:
        return Path(self.trials_dir) / run_id


def sampled_values(config: dict) -> dict:
    """Tune's config -> ``{dim name: value}`` (without the run's id and budget)."""
    return {k: v for k, v in (config or {}).items() if k != RUN_KEY}


def is_metric(key: str, value: Any) -> bool:
    if key in NON_METRIC_KEYS or key.startswith("config/") or key.startswith("_") or key == "config":
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return math.isfinite(float(value))
    return False


def numeric(metrics: dict) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        try:
            fv = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(fv):
            out[k] = fv
    return out


def search_trial(config: dict, plan: TrialPlan | None = None, data: Any = None) -> None:
    """The function Ray Tune runs for each dispatched run (wrapped with ``tune.with_parameters``)."""
    import ray
    import torch
    from ray import tune

    run = config[RUN_KEY]
    cfg = plan.config_for(sampled_values(config), run["budget"])
    torch.set_num_threads(max(1, int(plan.cpus_per_trial or 1)))
    try:
        node_id = ray.get_runtime_context().get_node_id()
    except Exception:
        node_id = "local"
    total = planned_epochs(cfg)
    held: dict[str, float] = {}

    def report(epoch: int, metrics: dict) -> None:
        m = numeric(metrics)
        m["epoch"] = int(epoch)
        if int(epoch) >= total:  # the last epoch goes with the final report
            held.clear()
            held.update(m)
            return
        tune.report({**m, NODE_KEY: node_id})

    result = run_trial(cfg, report=report, out_dir=str(plan.out_dir(run["id"])), resume=True, data=data,
                           select=(plan.space.metric, plan.space.mode))
    # the last epoch's own metrics win over the result's (val/* of the selected epoch): MLflow's
    # per-epoch history must equal metrics.jsonl; the selected epoch's value is best/<metric>
    final: dict[str, Any] = numeric({k: v for k, v in result.items() if k not in ("per_class",)})
    final.update({k: v for k, v in held.items() if k != "epoch"})
    final[LAST_EPOCH_KEY] = int(held.get("epoch", result.get("epochs_run", total)))
    final[FINAL_KEY] = 1
    final[NODE_KEY] = node_id
    if result.get("val_protocol"):
        final[PROTOCOL_KEY] = str(result["val_protocol"])
    tune.report(final)

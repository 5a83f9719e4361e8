"""The Ray Tune function trainable: one sampled point -> one ``run_trial`` in its own folder.

Per-epoch metrics go to Tune with ``epoch`` as ASHA's time attribute. The last epoch's
metrics travel with the final report (test metrics, ``ltsearch/final``) *without* ``epoch``,
so ASHA never stops a trial at its very last epoch, between training and test evaluation: a
trial either is stopped early ("stopped") or runs to the end and is evaluated ("completed").

The trial folder is ``<search dir>/trials/<trial id>``: run_trial checkpoints there every
epoch, so a resumed search continues an interrupted trial where it stopped.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ltsearch.search.space import SearchSpace

FINAL_KEY = "ltsearch/final"
LAST_EPOCH_KEY = "last_epoch"
NODE_KEY = "node_id"
PROTOCOL_KEY = "val_protocol"
GRID_KEY = "grid"
NON_METRIC_KEYS = {
    "epoch", FINAL_KEY, LAST_EPOCH_KEY, NODE_KEY, PROTOCOL_KEY, "done", "trial_id", "experiment_tag",
    "training_iteration", "time_total_s", "time_this_iter_s", "timestamp", "date", "pid", "hostname",
    "node_ip", "time_since_restore", "iterations_since_restore", "timesteps_since_restore",
    "timesteps_total", "episodes_total", "checkpoint_dir_name", "should_checkpoint", "experiment_id",
}


@dataclass
class TrialPlan:
    """Everything a trial needs besides its sampled values (plain, picklable data)."""

    space: SearchSpace
    base_config: dict
    trials_dir: str
    cpus_per_trial: float = 1.0
    trial_fn: str = "ltsearch.train:run_trial"  # "module:function", swappable in tests

    def config_for(self, config: dict) -> dict:
        return self.space.config_for(sampled_values(config), self.base_config)

    def out_dir(self, trial_id: str) -> Path:
        return Path(self.trials_dir) / trial_id


def sampled_values(config: dict) -> dict:
    """Tune's config -> ``{dim name: value}`` (grid points arrive nested under ``grid``)."""
    values = {k: v for k, v in (config or {}).items() if k != GRID_KEY}
    grid = (config or {}).get(GRID_KEY)
    if isinstance(grid, dict):
        values.update(grid)
    return values


def load_callable(spec: str) -> Callable:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def planned_total(cfg: dict) -> int:
    """Total epochs over all stages (LORT: stage 1 + stage 2): ASHA's ``max_t``."""
    from ltsearch.train import planned_epochs

    return int(planned_epochs(cfg))


def is_metric(key: str, value: Any) -> bool:
    if key in NON_METRIC_KEYS or key.startswith("config/") or key.startswith("_") or key == "config":
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return math.isfinite(float(value))
    return False


def _numeric(metrics: dict) -> dict[str, float]:
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
    """The function Ray Tune runs for each trial (wrapped with ``tune.with_parameters``)."""
    import ray
    from ray import tune

    ctx = tune.get_context()
    trial_id = ctx.get_trial_id() or "local"
    cfg = plan.config_for(config)
    out_dir = plan.out_dir(trial_id)
    try:
        import torch

        torch.set_num_threads(max(1, int(plan.cpus_per_trial or 1)))
    except Exception:
        pass
    try:
        node_id = ray.get_runtime_context().get_node_id()
    except Exception:
        node_id = "local"
    total = planned_total(cfg)
    held: dict[str, float] = {}

    def report(epoch: int, metrics: dict) -> None:
        m = _numeric(metrics)
        m["epoch"] = int(epoch)
        if int(epoch) >= total:  # the last epoch goes with the final report
            held.clear()
            held.update(m)
            return
        tune.report({**m, NODE_KEY: node_id})

    trial_fn = load_callable(plan.trial_fn)
    result = trial_fn(cfg, report=report, out_dir=str(out_dir), resume=True, data=data)
    final: dict[str, Any] = {k: v for k, v in held.items() if k != "epoch"}
    final.update(_numeric({k: v for k, v in result.items() if k not in ("per_class",)}))
    final[LAST_EPOCH_KEY] = int(held.get("epoch", result.get("epochs_run", total)))
    final[FINAL_KEY] = 1
    final[NODE_KEY] = node_id
    if result.get("val_protocol"):
        final[PROTOCOL_KEY] = str(result["val_protocol"])
    tune.report(final)

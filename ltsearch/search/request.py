"""What a search is asked to do (:class:`SearchRequest`) and the checks made before any work."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ltsearch.errors import LTSearchError
from ltsearch.search.space import SearchSpace, check_metric

SEARCHES = ("tpe", "random", "grid")
SCHEDULERS = ("asha", "sh", "none")
OPTUNA_DB = "optuna.db"


@dataclass
class SearchRequest:
    """What to search. Every field has a CLI flag of the same name (``ltsearch run --help``)."""

    method: str
    dataset: str = "digits-lt"
    imbalance_ratio: float | None = None  # None: the dataset's default (TrialConfig / space base)
    data_root: str | None = None
    val: str = "split"  # "split" (honest) | "test" (papers' protocol)
    space: str | Path | SearchSpace | None = None  # None: search_spaces/<method>.yaml
    trials: int = 8
    epochs: int | None = None  # overrides the space's epochs (stage 1 for LORT)
    search: str = "tpe"  # tpe | random | grid
    grid_points: int = 3  # points per float / int range in a grid
    grid_over: list[str] | None = None  # grid only these dims (others at the paper value)
    grid_values: dict[str, list] | None = None  # explicit grid values per dim
    scheduler: str = "asha"  # asha | sh | none
    grace_period: int = 1  # ASHA: epochs before a trial can be stopped; sh: the first rung's budget
    reduction_factor: float = 2.0  # ASHA / sh: keep 1 / reduction_factor of the trials at each rung
    rungs: list[float] | None = None  # sh: lower rung budgets, epochs (>= 1) or fractions of the run (< 1)
    brackets: int = 1  # sh: consecutive groups of configs (later groups sample after TPE saw earlier ones)
    metric: str | None = None  # None: the space's metric (val/acc)
    mode: str | None = None  # None: the space's mode (max)
    gpus_per_trial: float | None = None  # None: by model size (search/resources.py), 0 without GPUs
    cpus_per_trial: float = 1.0
    max_concurrent: int | None = None
    ray_address: str | None = None  # None: RAY_ADDRESS or a local Ray with this machine's CPUs
    num_cpus: int | None = None  # local Ray only; None: os.cpu_count()
    tracking_uri: str | None = None  # None: MLFLOW_TRACKING_URI or sqlite:///./mlflow.db
    optuna_storage: str | None = None  # None: sqlite optuna.db beside the MLflow store
    name: str | None = None  # None: <method>-<experiment>-<timestamp>
    study: str | None = None  # Optuna study to share with other drivers (None: a study of its own, = name)
    resume: bool = False
    retries: int = 0  # re-runs of a failed trial (Tune FailureConfig.max_failures)
    seed: int = 0
    params: list[str] = field(default_factory=list)  # --param NAME=LOW:HIGH[:log] | a,b,c
    fixed: list[str] = field(default_factory=list)  # --fix NAME=VALUE
    sets: list[str] = field(default_factory=list)  # --set key=value trial-config overrides
    storage_path: str | Path = "trials"
    display: bool = True  # live rich table on stderr
    trial_fn: str = "ltsearch.train:run_trial"



def check_request(req: SearchRequest) -> None:
    if req.search not in SEARCHES:
        raise LTSearchError(f"--search {req.search!r} is invalid; use one of {', '.join(SEARCHES)}")
    if req.scheduler not in SCHEDULERS:
        raise LTSearchError(f"--scheduler {req.scheduler!r} is invalid; use asha, sh or none")
    if req.trials < 1:
        raise LTSearchError(f"--trials {req.trials} is invalid; use at least 1")
    if req.epochs is not None and req.epochs < 1:
        raise LTSearchError(f"--epochs {req.epochs} is invalid; use at least 1")
    if req.grace_period < 1:
        raise LTSearchError(f"--grace-period {req.grace_period} is invalid; use at least 1 epoch")
    if req.reduction_factor <= 1:
        raise LTSearchError(f"--reduction-factor {req.reduction_factor} is invalid; use a factor > 1, e.g. 2 or 3")
    if req.cpus_per_trial <= 0:
        raise LTSearchError(f"--cpus-per-trial {req.cpus_per_trial} is invalid; use > 0")
    if req.gpus_per_trial is not None and req.gpus_per_trial < 0:
        raise LTSearchError(f"--gpus-per-trial {req.gpus_per_trial} is invalid; use >= 0 (fractions allowed)")
    if req.max_concurrent is not None and req.max_concurrent < 1:
        raise LTSearchError(f"--max-concurrent {req.max_concurrent} is invalid; use at least 1")
    if req.val not in ("split", "test"):
        raise LTSearchError(f"--val {req.val!r} is invalid; use split (honest) or test (papers' protocol)")
    if req.imbalance_ratio is not None and not req.imbalance_ratio > 1:
        raise LTSearchError(f"--imbalance-ratio {req.imbalance_ratio} is invalid; use a ratio > 1, e.g. 100")
    if req.retries < 0:
        raise LTSearchError(f"--retries {req.retries} is invalid; use 0 (no re-run) or more re-runs of a failed trial")
    for r in req.rungs or []:
        if not (isinstance(r, (int, float)) and r > 0 and r == r and r != float("inf")):
            raise LTSearchError(f"--rungs {r!r} is invalid; give rung budgets as epochs (>= 1) or fractions of the "
                                f"run (< 1), e.g. --rungs 0.25,0.5")
    if not 1 <= req.brackets <= max(1, req.trials):
        raise LTSearchError(f"--brackets {req.brackets} is invalid; use 1 to --trials ({req.trials}) groups")
    if req.grid_points < 1:
        raise LTSearchError(f"--grid-points {req.grid_points} is invalid; use at least 1")
    if req.name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", req.name):
        raise LTSearchError(f"--name {req.name!r} is invalid; use letters, digits, '.', '_' and '-'")
    if req.metric is not None:
        check_metric(req.metric)

"""What a search is asked to do (:class:`SearchRequest`) and the checks made before any work."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ltsearch import checks
from ltsearch.config import DEFAULT_DATASET, VAL_MODES
from ltsearch.errors import LTSearchError
from ltsearch.search.space import SearchSpace, check_metric, set_path
from ltsearch.train.plan import planned_epochs

SEARCHES = ("tpe", "random", "grid")
SCHEDULERS = ("asha", "sh", "none")
FIGURES = ("auto", "all", "best", "none")  # which trials get their PNG figures (search/recorder.py)
OPTUNA_DB = "optuna.db"
# --reduction-factor's default per scheduler: keep 1 in this many at each rung (sh's with DEFAULT_RUNGS below)
REDUCTION_FACTORS = {"sh": 4.0, "asha": 3.0}

# sh's default: one lower rung at 1/4 of the full budget, keep 1 in 4 (REDUCTION_FACTORS), half the
# epochs of training every config fully. The cheapest setting whose picks, judged on the training seeds that
# did not choose them, are within 0.5 pt of training every config fully on all three measured tables
# (digits-lt and CIFAR-10-LT at 12 epochs, CIFAR-10-LT at 20; bench/RESULTS.md, session 14). Session 10's
# rungs at 1/6 and 1/3 (keep 1 in 3, 0.417) hold at 12 epochs but lose 0.67 pt at 20.
DEFAULT_RUNGS = (1 / 4,)
# a default rung trains at least this many epochs: after 1 epoch every digits-lt config is at chance (P2), so a
# 1-epoch rung would rank by sampling order; --rungs given explicitly are taken as they are
MIN_DEFAULT_RUNG = 2


def rung_budgets(full: int, rungs: list[float] | tuple | None = None) -> list[int]:
    """The sh budgets: the lower rungs (epochs >= 1, or fractions of ``full`` < 1; default
    :data:`DEFAULT_RUNGS`, at least :data:`MIN_DEFAULT_RUNG` epochs), each rounded, kept when below
    ``full``, then ``full`` itself: ``[3, 12]`` for 12 epochs, ``[5, 20]`` for 20, ``[2, 8]`` for 8."""
    floor = 1 if rungs else MIN_DEFAULT_RUNG
    lower = [max(floor, round(r * full)) if r < 1 else int(r) for r in (rungs or DEFAULT_RUNGS)]
    return sorted({b for b in lower if b < full}) + [int(full)]


@dataclass
class SearchRequest:
    """What to search. Most fields have a CLI flag of the same name (``ltsearch run --help``); the
    others are set by the CLI (``grid_over``, ``grid_values``, ``display``) or the API (``num_cpus``)."""

    method: str
    dataset: str = DEFAULT_DATASET
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
    scheduler: str = "sh"  # sh | asha | none (default from P2, bench/RESULTS.md)
    grace_period: int = 1  # ASHA: epochs before a trial can be stopped
    reduction_factor: float | None = None  # keep 1 in this many at each rung; None: REDUCTION_FACTORS[scheduler]
    rungs: list[float] | None = None  # sh: lower rung budgets, epochs (>= 1) or fractions (< 1); None: 1/4
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
    warm_start: list[str] = field(default_factory=list)  # earlier searches whose finished trials TPE starts from
    resume: bool = False
    retries: int = 0  # re-runs of a failed trial (Tune FailureConfig.max_failures)
    seed: int = 0
    params: list[str] = field(default_factory=list)  # --param NAME=LOW:HIGH[:log] | a,b,c
    fixed: list[str] = field(default_factory=list)  # --fix NAME=VALUE
    sets: list[str] = field(default_factory=list)  # --set key=value trial-config overrides
    storage_path: str | Path = "trials"
    display: bool = True  # live rich table on stderr
    figures: str = "auto"  # whose PNG figures: auto | all | best | none (Recorder; about 2 s of CPU a trial)


def check_request(req: SearchRequest) -> None:
    """Every flag of ``req`` on its own, before any heavy import: finite numbers in range, seeds, names
    and the paths they become, storage / tracking / Optuna URIs (and their local files), and whether
    this machine can place one trial. Network checks come later (:func:`check_plan`)."""
    if req.search not in SEARCHES:
        raise LTSearchError(f"--search {checks.shown(req.search)} is invalid; use one of {', '.join(SEARCHES)}")
    if req.scheduler not in SCHEDULERS:
        raise LTSearchError(f"--scheduler {checks.shown(req.scheduler)} is invalid; use asha, sh or none")
    if req.figures not in FIGURES:
        raise LTSearchError(f"--figures {checks.shown(req.figures)} is invalid; use one of {', '.join(FIGURES)}")
    num = checks.number
    num("--trials", req.trials, low=1, high=checks.MAX_TRIALS, integer=True)
    if req.epochs is not None:
        num("--epochs", req.epochs, low=1, high=checks.MAX_EPOCHS, integer=True)
    num("--grace-period", req.grace_period, low=1, high=checks.MAX_EPOCHS, integer=True,
        fix="use at least 1 epoch, at most the run's length")
    if req.reduction_factor is not None:
        num("--reduction-factor", req.reduction_factor, low=1, low_open=True, high=checks.MAX_REDUCTION_FACTOR,
            fix="use a factor > 1, e.g. 2 or 3")
    num("--cpus-per-trial", req.cpus_per_trial, low=0, low_open=True, high=1e6, fix="use > 0, e.g. 1")
    if req.gpus_per_trial is not None:
        num("--gpus-per-trial", req.gpus_per_trial, low=0, high=1e4, fix="use >= 0 (fractions below 1 allowed)")
        if req.gpus_per_trial > 1 and not float(req.gpus_per_trial).is_integer():
            raise LTSearchError(f"--gpus-per-trial {req.gpus_per_trial:g} is invalid: above 1 a trial takes whole "
                                f"GPUs; use a fraction below 1 or a whole number")
    if req.max_concurrent is not None:
        num("--max-concurrent", req.max_concurrent, low=1, high=checks.MAX_TRIALS, integer=True)
    if req.num_cpus is not None:
        num("--num-cpus", req.num_cpus, low=1, high=1e6, integer=True)
    if req.val not in VAL_MODES:
        raise LTSearchError(f"--val {checks.shown(req.val)} is invalid; use split (honest) or test (papers' protocol)")
    if req.imbalance_ratio is not None:
        num("--imbalance-ratio", req.imbalance_ratio, low=1, low_open=True, high=checks.MAX_IMBALANCE_RATIO,
            fix="use a ratio > 1, e.g. 100")
    num("--retries", req.retries, low=0, high=1000, integer=True,
        fix="use 0 (no re-run) or more re-runs of a failed trial")
    num("--grid-points", req.grid_points, low=1, high=checks.MAX_GRID_POINTS, integer=True)
    for r in req.rungs or []:
        num("--rungs", r, low=0, low_open=True, high=1e6, fix="give rung budgets as epochs (>= 1) or fractions of "
            "the run (< 1), e.g. --rungs 0.25,0.5")
    if not 1 <= req.brackets <= max(1, req.trials):
        raise LTSearchError(f"--brackets {req.brackets} is invalid; use 1 to --trials ({req.trials}) groups")
    checks.check_seed("--seed", req.seed)
    checks.check_storage_path("--storage-path", req.storage_path)
    checks.check_name("--name", req.name, req.storage_path)
    if req.study is not None:
        checks.check_name("--study", req.study)
    for earlier in req.warm_start:
        checks.check_name("--warm-start", earlier)
    if req.warm_start and req.search != "tpe":
        raise LTSearchError(f"--warm-start gives TPE the earlier trials; --search {req.search} does not learn from "
                            f"them, so use --search tpe or drop --warm-start")
    if req.metric is not None:
        check_metric(req.metric)
    _check_conflicts(req)
    checks.check_tracking_uri("--tracking-uri", req.tracking_uri)
    checks.check_optuna_storage("--optuna-storage", req.optuna_storage)
    address = req.ray_address or os.environ.get("RAY_ADDRESS")
    if address:
        checks.ray_address_parts(address)
    else:  # a local Ray: this machine's CPUs (or --num-cpus) and GPUs
        gpus = req.gpus_per_trial or 0
        checks.check_trial_fits(req.cpus_per_trial, gpus, req.num_cpus or os.cpu_count() or 1,
                                checks.local_gpu_count() if gpus else 0, "this machine")


def _check_conflicts(req: SearchRequest) -> None:
    """Flags that contradict each other, or apply to another scheduler than the one chosen (each would
    otherwise be ignored or overruled without a word)."""
    if req.rungs is not None and req.scheduler != "sh":
        raise LTSearchError(f"--rungs applies to --scheduler sh, not {req.scheduler}; drop --rungs or use "
                            f"--scheduler sh")
    if req.brackets != 1 and req.scheduler != "sh":
        raise LTSearchError(f"--brackets applies to --scheduler sh, not {req.scheduler}; drop --brackets or use "
                            f"--scheduler sh")
    if req.grace_period != 1 and req.scheduler != "asha":
        raise LTSearchError(f"--grace-period applies to --scheduler asha, not {req.scheduler}"
                            + ("; sh sets its rungs with --rungs" if req.scheduler == "sh" else "")
                            + "; drop --grace-period or use --scheduler asha")
    if req.reduction_factor is not None and req.scheduler == "none":
        raise LTSearchError("--reduction-factor applies to --scheduler sh or asha; --scheduler none stops no "
                            "trial, so drop --reduction-factor or choose a scheduler")
    seen: dict[str, str] = {}
    for flag, items in (("--param", req.params), ("--fix", req.fixed)):
        for item in items:
            knob = item.partition("=")[0].strip()
            if knob in seen:
                raise LTSearchError(f"{seen[knob]} {knob} and {flag} {knob}: give each knob once, searched "
                                    f"(--param) or fixed (--fix)")
            seen[knob] = flag
    if req.epochs is not None:
        for item in req.sets:
            if item.partition("=")[0].strip() == "epochs":
                raise LTSearchError(f"--epochs {req.epochs} and --set {item}: both set the run's length; "
                                    f"give it once, with --epochs")


def check_plan(req: SearchRequest, space: SearchSpace, base: dict) -> None:
    """Checks that need the parsed space and base config, then the services: the grid's size, the
    grace period against the run's length, the MLflow / Optuna servers answering, and the Ray
    cluster at ``--ray-address`` able to place one trial. Called by the engine before it writes."""
    if req.search == "grid":
        size = grid_size(req, space)
        if size > checks.MAX_GRID_POINTS:
            raise LTSearchError(f"--search grid: the grid has {size:,} points (more than {checks.MAX_GRID_POINTS:,}); "
                                f"lower --grid-points, grid fewer parameters or use --search tpe")
    if req.scheduler == "asha" and req.grace_period > 1:
        longest = longest_run(space, base)
        if req.grace_period > longest:
            raise LTSearchError(f"--grace-period {req.grace_period} is longer than the run ({longest} epochs), so no "
                                f"trial could be stopped early; use --grace-period < {longest} or --scheduler none")
    if req.scheduler == "sh" and req.rungs:
        longest = longest_run(space, base)
        for r in req.rungs:
            if len(rung_budgets(longest, [r])) == 1:  # rounded to the full budget or above: no lower rung
                shown = f"{r:g}" + (f" (of {longest} epochs: {max(1, round(r * longest))})" if r < 1 else "")
                raise LTSearchError(f"--rungs {shown} is not below the run's {longest} epochs, so that rung would "
                                    f"train nothing less than the full budget; give lower rungs below {longest} "
                                    f"epochs, e.g. --rungs {max(1, longest // 4)}")
    checks.check_reachable("--tracking-uri" if req.tracking_uri else "MLFLOW_TRACKING_URI",
                           req.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"))
    checks.check_reachable("--optuna-storage", req.optuna_storage)
    check_cluster(req)


def grid_size(req: SearchRequest, space: SearchSpace) -> int:
    """An upper bound of the grid's points (conditional dims counted as if always active), computed
    without building the grid."""
    size = 1
    over = set(req.grid_over) if req.grid_over is not None else None
    for d in space.searched:
        values = (req.grid_values or {}).get(d.name)
        if values:
            n = len(values)
        elif over is not None and d.name not in over:
            n = 1
        elif d.kind == "categorical":
            n = len(d.choices or [])
        elif d.kind == "int":
            n = min(req.grid_points, int(d.high) - int(d.low) + 1)
        else:
            n = req.grid_points
        size *= max(n, 1)
        if size > checks.MAX_GRID_POINTS:
            return size
    return size


def longest_run(space: SearchSpace, base: dict) -> int:
    """Epochs of the longest trial the space can produce (searched ``*epochs`` knobs at their high)."""

    probe = space.config_for(space.paper_point(base), base)
    for d in space.searched:
        if d.name.endswith("epochs") and d.kind in ("int", "categorical"):
            set_path(probe, d.path, d.high if d.kind == "int" else max(d.choices))
    return int(planned_epochs(probe))


def check_cluster(req: SearchRequest) -> None:
    """With ``--ray-address`` (or RAY_ADDRESS): the head answers, and one of its nodes can hold a trial.

    Joins the cluster (the engine then reuses the connection) only after a TCP connect succeeded,
    so an unreachable address fails in seconds instead of Ray's long retries."""
    address = req.ray_address or os.environ.get("RAY_ADDRESS")
    if not address:
        return
    flag = "--ray-address" if req.ray_address else "RAY_ADDRESS"
    parts = checks.ray_address_parts(address)
    if parts is not None:
        checks.check_tcp(flag, parts[0], parts[1], address, "the Ray cluster")

    import ray

    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, configure_logging=True)  # as the driver's init_ray
        except Exception as err:  # ConnectionError, RuntimeError, ValueError from ray.init
            raise LTSearchError(f"{flag} {checks.shown(address)}: cannot join the Ray cluster "
                                f"({checks.shown(str(err).splitlines()[0] if str(err) else type(err).__name__)}); "
                                f"check the address and RAY_AUTH_MODE / the auth token") from None
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    cpus = max((r.get("CPU", 0) for r in nodes), default=0)
    gpus = max((r.get("GPU", 0) for r in nodes), default=0)
    checks.check_trial_fits(req.cpus_per_trial, req.gpus_per_trial, cpus, gpus, f"the Ray cluster at {address}")

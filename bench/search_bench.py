"""P1 and P2: the search engine's overhead and ASHA's savings, on the embedded digits-lt data.

    python bench/search_bench.py p1 [--trials 4] [--epochs 40] [--model resnet20] [--ray-address HOST:PORT]
    python bench/search_bench.py p2 [--trials 16] [--epochs 12] [--scheduler asha|sh] [--grace 2 (asha)] [--reduction N]

P1: wall time of ``run_search`` (Ray Tune + Optuna + MLflow, one trial at a time) / the sum of
    the same trial configs (read back from each trial's ``config.yaml``) run bare with
    ``run_trial`` in one process. Trials are sized to about 30 s here. Goal <= 1.10. With
    ``--ray-address`` the search joins a running Ray (``ray start --head --num-cpus 2``), as on a cluster,
    instead of starting its own.
P2: the same 16 configs (seeded random sampling: the configs do not depend on results) with
    an early-stopping scheduler (ASHA or sh) and at full budget: epochs consumed (scheduler /
    full, goal <= 1/3) and the gap between their best objectives (goal <= 0.5 pt). The
    scheduler's best is the full-budget objective of the config it returns.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from ltsearch.config import load_yaml
from ltsearch.search.engine import run_search
from ltsearch.search.request import SearchRequest
from ltsearch.train import run_trial


def request(tmp: Path, name: str, **kw) -> SearchRequest:
    return SearchRequest(method="kps", dataset="digits-lt", name=name, storage_path=str(tmp / "trials"),
                         tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", display=False, seed=0, **kw)


def p1(args) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sets = [f"model.name={args.model}", "device=cpu"]
        t = time.perf_counter()
        ray = {"ray_address": args.ray_address} if args.ray_address else {"num_cpus": 2}
        res = run_search(request(tmp, "p1", trials=args.trials, epochs=args.epochs, scheduler="none",
                                 search="random", max_concurrent=1, cpus_per_trial=2, sets=sets,
                                 figures=args.figures, **ray))
        t_search = time.perf_counter() - t
        folder = tmp / "trials" / "p1"
        in_ray = sum(_tune_seconds(p) for p in (folder / "tune").rglob("result.json"))
        configs = [load_yaml(p) for p in sorted((folder / "trials").rglob("config.yaml"))]
        assert len(configs) == args.trials, len(configs)
        bare = []
        for cfg in configs:
            cfg.pop("cache_dir", None)
            t = time.perf_counter()
            run_trial(cfg)  # loads the data itself, as each trial process would
            bare.append(time.perf_counter() - t)
    t_bare = sum(bare)
    where = f"joined Ray at {args.ray_address}" if args.ray_address else "its own Ray"
    where += f", --figures {args.figures}"
    print(f"P1: {args.trials} trials of ~{t_bare / args.trials:.0f} s ({args.model}, {args.epochs} epochs, digits-lt; "
          f"{where})")
    print(f"ltsearch run wall {t_search:.1f} s / bare sum {t_bare:.1f} s = {t_search / t_bare:.3f}"
          f"  (completed: {sum(t.status == 'completed' for t in res.trials)})")
    # where the difference goes: inside the trials (Tune's time_total_s against the bare runs) and
    # around them (start-up, gaps between trials, the end)
    print(f"  inside the trials: {in_ray:.1f} s against {t_bare:.1f} s bare "
          f"({(in_ray - t_bare) / args.trials:+.1f} s a trial); around them: {t_search - in_ray:.1f} s")


def _tune_seconds(path: Path) -> float:
    """A Tune trial's training time (its last report's ``time_total_s``)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return float(rows[-1].get("time_total_s", 0.0)) if rows else 0.0


def p2(args) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        common = dict(trials=args.trials, epochs=args.epochs, search="random", num_cpus=2)
        asha = {"grace_period": args.grace} if args.scheduler == "asha" else {}  # sh sets its rungs itself
        early = run_search(request(tmp, args.scheduler, scheduler=args.scheduler, reduction_factor=args.reduction,
                                   **asha, **common))
        full = run_search(request(tmp, "full", scheduler="none", **common))
    same = {t.trial_id: t.params for t in early.trials} == {t.trial_id: t.params for t in full.trials}
    at_full = {t.trial_id: t.metric for t in full.trials}
    picked = at_full.get(early.best_trial_id)
    setting = (f"grace {args.grace}, " if args.scheduler == "asha" else "") + f"rf {args.reduction or 'default'}"
    print(f"P2: {args.trials} configs x {args.epochs} epochs ({args.scheduler} {setting}); "
          f"same configs both sides: {same}")
    print(f"epochs consumed {args.scheduler} {early.epochs_consumed} / full {full.epochs_consumed} = "
          f"{early.epochs_consumed / full.epochs_consumed:.3f}")
    print(f"best objective: {args.scheduler} picked {early.best_trial_id} ({picked:.2f} at full budget) vs the full "
          f"budget's best {full.best_trial_id} ({full.best_metric:.2f}): gap {full.best_metric - picked:+.2f} pt")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", choices=["p1", "p2"])
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--model", default="resnet20")
    ap.add_argument("--ray-address", default=None, help="p1: join this running Ray instead of starting one")
    ap.add_argument("--figures", choices=["auto", "all", "best", "none"], default="auto",
                    help="p1: whose figures the search draws (ltsearch run --figures)")
    ap.add_argument("--grace", type=int, default=2)
    ap.add_argument("--reduction", type=float, default=None, help="p2: keep 1 in this many (default: the "
                    "scheduler's, sh 4, asha 3)")
    ap.add_argument("--scheduler", default="sh", choices=["asha", "sh"])
    args = ap.parse_args()
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    if args.which == "p1":
        args.trials, args.epochs = args.trials or 4, args.epochs or 40
        p1(args)
    else:
        args.trials, args.epochs = args.trials or 16, args.epochs or 12
        p2(args)


if __name__ == "__main__":
    main()

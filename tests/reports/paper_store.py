"""A realistic leaderboard store without training: the MLflow records of a paper's searches.

``build(root)`` writes ``root/mlflow.db`` (experiment ``cifar10-lt-ir100``) the way the engine
and ``ltsearch train`` write it: the search runs are created by the engine's own
:class:`~ltsearch.search.recorder.Recorder` (its tags, params and paper-default mark) from
real spaces (``load_space``) and real plans (``TrialPlan``, budgets scaled like ``sh``); the
final runs by :func:`ltsearch.tracking.final.log_final_runs`. Only the numbers are made up
(a seeded generator): no trial trains. As on the real CIFAR-10-LT (IR 100) there is no few-shot
class (< 20 training images): the few-shot numbers are absent, an empty group.

* ``kps-tpe``: KPS, 200 epochs, 8 searched knobs (the built-in 6 plus ``--param
  optim.momentum=0.8:0.99 --param optim.batch_size=64,128``), 10 configs, the first the paper
  point, one stopped by ASHA (no test numbers);
* ``kps-sh``: KPS with successive halving, rungs 25 / 66 / 200 epochs (9 -> 3 -> 1 configs);
* ``ldam-tpe`` (6 configs), ``focal-tpe`` (4), ``ce-tpe`` (3): 200 epochs;
* ``kps-on-test``: KPS validated on the test set (the papers' protocol), 3 configs;
* ``kps-fixed``: KPS with ``--fix m_max=0.3`` (its first trial is no paper setting), 2 configs;
* final runs: ``ltsearch train --preset kps/cifar10-lt --seeds 0,1,2`` and the best KPS trial
  exported and trained over seeds 0,1,2.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

EXPERIMENT = "cifar10-lt-ir100"
FULL = 200


def _sample(space, rng: random.Random) -> dict:
    values: dict = {}
    for d in space.searched:
        if not space.active(d, values):
            continue
        if d.kind == "categorical":
            values[d.name] = rng.choice(d.choices)
        elif d.kind == "int":
            values[d.name] = rng.randint(int(d.low), int(d.high))
        elif d.log:
            values[d.name] = float(f"{math.exp(rng.uniform(math.log(d.low), math.log(d.high))):.6g}")
        else:
            values[d.name] = float(f"{rng.uniform(d.low, d.high):.6g}")
    return values


def _metrics(rng: random.Random, level: float, epochs: int, stopped: bool = False) -> tuple[list, dict]:
    steps = sorted({max(1, round(epochs * f)) for f in (0.1, 0.25, 0.5, 0.75, 0.9, 1.0)})
    if stopped:
        steps = steps[:2]
    hist = []
    for s in steps:
        v = level * (0.55 + 0.45 * s / epochs) + rng.uniform(-0.4, 0.4)
        hist.append((s, {"val/acc": v, "val/many": min(99.0, v + 15), "val/medium": v - 2,
                         "train/loss": 2.0 * (1 - s / epochs) + 0.1, "lr": 0.1}))  # no few-shot class
    best = max(v["val/acc"] for _, v in hist)
    final = {"best/val/acc": best, "epochs_run": steps[-1]}
    if not stopped:
        t = best + rng.uniform(-0.8, 0.3)
        final.update({"test/acc": t, "test/many": min(99.5, t + 14.5), "test/medium": t - 1.5})
    return hist, final


def _search(writer, uri, root, name, method, *, configs, seed, params=(), fixed=(), val="split",
            budgets=(FULL,), survivors=(), level=78.0, stopped=()) -> dict:
    from ltsearch.search.recorder import Recorder
    from ltsearch.search.space import load_space
    from ltsearch.search.state import RunRecord
    from ltsearch.search.trainable import TrialPlan
    from ltsearch.tracking import TAG_STATUS, TAG_VAL_PROTOCOL
    from ltsearch.tracking.writer import search_tags

    rng = random.Random(seed)
    space = load_space(method, dataset="cifar10-lt", params=list(params), fixed=list(fixed))
    base = space.base_config({"dataset": {"val": val, "imbalance_ratio": 100.0}, "seed": 0, "epochs": FULL})
    plan = TrialPlan(space=space, base_config=base, trials_dir=str(root / "trials" / name))
    protocol = "test" if val == "test" else "test-half"
    scheduler = "sh" if len(budgets) > 1 else "none"
    rec = Recorder(writer, EXPERIMENT, name, method, plan, 0, scheduler, protocol)
    rec.parent_id = writer.create_run(rec.experiment_id, name, search_tags(
        name, method, EXPERIMENT, **{TAG_STATUS: "completed", TAG_VAL_PROTOCOL: protocol}))
    point = space.paper_point(base)
    configs_values = [point] + [_sample(space, rng) for _ in range(configs - 1)]
    alive = list(range(configs))
    out: dict = {"runs": {}, "space": space}
    for rung, budget in enumerate(budgets):
        for i in alive:
            rid = f"t{i:03d}" + (f"-r{rung}" if rung else "")
            run = RunRecord(id=rid, config_id=f"t{i:03d}", number=i, values=configs_values[i], budget=budget,
                            rung=rung)
            mlflow_id = rec.run_for(run)
            stop = rid in stopped
            quality = level - 6 * sum((v - 0.5) ** 2 for v in configs_values[i].values() if isinstance(v, float)
                                      and 0 < v < 1) - (0 if i == 0 else rng.uniform(0, 3))
            hist, final = _metrics(rng, quality * (0.92 + 0.08 * budget / FULL), budget, stopped=stop)
            for step, m in hist:
                writer.log_metrics(mlflow_id, m, step=step)
            writer.log_metrics(mlflow_id, final, step=hist[-1][0])
            status = "stopped" if stop else "completed"
            writer.set_tags(mlflow_id, {TAG_STATUS: status, TAG_VAL_PROTOCOL: protocol})
            writer.end_run(mlflow_id, "FINISHED")
            out["runs"][rid] = mlflow_id
        if rung < len(survivors):
            alive = alive[:survivors[rung]]
    writer.end_run(rec.parent_id, "FINISHED")
    return out


def _finals(uri, root, raw_cfg: dict, seeds, level, rng, config_path=None) -> list[str]:
    from ltsearch.config import config_from_dict
    from ltsearch.tracking.final import log_final_runs
    from ltsearch.train import resolve_config

    cfg, _ = resolve_config(config_from_dict(raw_cfg))
    cfg.cache_dir = str(root / "trials" / "cache")  # as `ltsearch train` sets it
    results = []
    for _ in seeds:
        t = level + rng.uniform(-0.5, 0.5)
        results.append({"best/val/acc": t + 0.4, "val/acc": t + 0.4, "test/acc": t, "test/many": t + 14,
                        "test/medium": t - 1, "epochs_run": cfg.epochs,
                        "val_protocol": "test-half"})
    return log_final_runs(cfg, results, list(seeds), config_path=config_path, tracking_uri=uri)


def build(root: Path) -> dict:
    """Write the store under ``root``; returns ``{"uri", "searches": {name: {"runs": {id: run id}}},
    "preset_finals", "export_finals"}``."""
    from ltsearch.config import dump_yaml
    from ltsearch.presets import paper_config
    from ltsearch.tracking.writer import TrackingWriter

    root = Path(root)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    writer = TrackingWriter(uri)
    t0 = time.monotonic()
    s = {
        "kps-tpe": _search(writer, uri, root, "kps-tpe", "kps", configs=10, seed=1, level=80.0,
                           params=("optim.momentum=0.8:0.99", "optim.batch_size=64,128"), stopped=("t007",)),
        "kps-sh": _search(writer, uri, root, "kps-sh", "kps", configs=9, seed=2, level=79.5,
                          budgets=(25, 66, FULL), survivors=(3, 1)),
        "ldam-tpe": _search(writer, uri, root, "ldam-tpe", "ldam-drw", configs=6, seed=3, level=77.0),
        "focal-tpe": _search(writer, uri, root, "focal-tpe", "focal", configs=4, seed=4, level=72.0),
        "ce-tpe": _search(writer, uri, root, "ce-tpe", "ce", configs=3, seed=5, level=70.5),
        "kps-on-test": _search(writer, uri, root, "kps-on-test", "kps", configs=3, seed=6, val="test", level=81.0),
        "kps-fixed": _search(writer, uri, root, "kps-fixed", "kps", configs=2, seed=7, fixed=("m_max=0.3",),
                             level=79.0),
    }
    rng = random.Random(8)
    preset = _finals(uri, root, paper_config("kps", "cifar10-lt"), (0, 1, 2), 80.6, rng)
    best = s["kps-tpe"]["runs"]["t003"]
    client = writer.client
    cfg = {k: v for k, v in client.get_run(best).data.params.items()}
    from ltsearch.config import unflatten
    from ltsearch.tracking.reader import parse_param

    exported = unflatten({k: parse_param(v) for k, v in cfg.items()})
    exported["ltsearch"] = {"source_run": best, "source_search": "kps-tpe"}
    path = root / "best.yaml"
    path.write_text(dump_yaml(exported))
    exported.pop("ltsearch")
    export = _finals(uri, root, exported, (0, 1, 2), 81.0, rng, config_path=path)
    return {"uri": uri, "root": root, "searches": s, "preset_finals": preset, "export_finals": export,
            "seconds": time.monotonic() - t0}

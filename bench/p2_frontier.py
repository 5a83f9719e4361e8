"""P2 frontier: which early-stopping settings keep the full-budget winner, on measured configs.

    python bench/p2_frontier.py digits-lt [--epochs 12] [--budgets 1,2,3,4,6]
    python bench/p2_frontier.py cifar10-lt --root ~/.cache/ltsearch/cifar10-jpg
    python bench/p2_frontier.py cifar10-lt --root ... --simulate-only
    python bench/p2_frontier.py cifar10-lt --budgets 3,6 --graces 3 --etas 2,4 --shard 0/2   # + --shard 1/2

``--shard K/N`` trains every N-th job (from K) and writes ``p2_<dataset>.shardK.json``; every process
reads all shards, so N processes on N cores fill one table (a rerun resumes each shard).

1. Samples the configs that ``ltsearch run kps --search random --seed 0 --trials 16`` samples
   (``prepare(SearchRequest)``'s space and base config, an Optuna study with the per-trial-seeded
   random sampler, the paper point enqueued first).
2. Trains each config once at the full budget E (its per-epoch val/acc curve; objective = the
   best-epoch val/acc) and once per budget b as a *complete* schedule scaled to b
   (``scale_to_budget``), then (``--extras``, default on) the few (config, budget) pairs that a
   simulated successive-halving setting needs beyond the listed budgets (its survivors only).
   Everything goes to ``bench/results/p2_<dataset>.json`` after each run; a rerun resumes.
3. Simulates, without training: ``none``; ``sh`` (successive halving over complete schedules,
   survivors retrained from scratch; rungs b_k = grace * eta^k < E, then E; keep the top
   ceil(n_k / eta)); Hyperband over the same rungs; ``asha`` as Ray Tune's ASHA runs it with one
   trial at a time (rungs at grace * rf^k epochs of the full schedule's prefix, the best-so-far
   value at the rung; stop when below the (1 - 1/rf) percentile of the earlier trials' values).
   Gap = best full-budget objective over all configs - the full-budget objective of the config the
   scheduler returns (the best of those it trained to the end). Writes
   ``bench/results/p2_<dataset>_frontier.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
METRIC = "val/acc"
VERBOSE = False


# --------------------------------------------------------------------------------------- sampling
def make_request(args):
    from ltsearch.search.request import SearchRequest

    if args.dataset == "digits-lt":
        return SearchRequest(method="kps", dataset="digits-lt", epochs=args.epochs, sets=["device=cpu"],
                             search="random", seed=args.seed, trials=args.trials, display=False)
    return SearchRequest(method="kps", dataset="cifar10-lt", imbalance_ratio=100, data_root=str(args.root),
                         epochs=args.epochs, sets=["model.name=resnet8", "optim.batch_size=128", "device=cpu"],
                         search="random", seed=args.seed, trials=args.trials, display=False)


def sample_configs(req) -> tuple[list[dict], list[dict], dict]:
    """(sampled values, full trial configs, base config) in the order a real search samples them."""
    import optuna

    from ltsearch.search.prepare import prepare
    from ltsearch.search.sampler import SpaceSampler, make_optuna_sampler

    space, base = prepare(req)
    base.pop("cache_dir", None)  # KPS is one-stage: no stage-1 cache; nothing written
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make_optuna_sampler(req.search, req.seed))
    study.enqueue_trial(space.paper_point(base))
    sampler = SpaceSampler(space)
    values, configs = [], []
    for _ in range(req.trials):
        trial = study.ask()
        v = sampler.sample(trial)
        values.append(v)
        configs.append(space.config_for(v, base))
    return values, configs, base


# --------------------------------------------------------------------------------------- training
def load_table(path: Path) -> dict:
    """The table at ``path`` with the runs of every shard file beside it merged in."""
    table = json.loads(path.read_text()) if path.is_file() else {}
    for shard in sorted(path.parent.glob(f"{path.stem}.shard*.json")):
        part = json.loads(shard.read_text())
        if table and part.get("configs") != table.get("configs"):
            raise SystemExit(f"{shard} holds other configs than {path}; move it away")
        table = table or {k: v for k, v in part.items() if k != "runs"} | {"runs": {}}
        table["runs"].update(part["runs"])
    return table


def save_table(path: Path, table: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(table, indent=1))
    os.replace(tmp, path)


def train_one(cfg: dict, budget: int, full: int, data, verbose: bool = False) -> dict:
    from ltsearch.train import run_trial
    from ltsearch.train.budget import scale_to_budget

    run_cfg = cfg if budget == full else scale_to_budget(cfg, budget)
    curve: list[float] = []
    t = time.perf_counter()
    def report(epoch, m):
        curve.append(float(m[METRIC]))
        if verbose:
            print(f"    epoch {epoch}: {curve[-1]:.2f} ({time.perf_counter() - t:.0f} s)", flush=True)

    res = run_trial(run_cfg, report=report, data=data, resume=False)
    wall = time.perf_counter() - t
    return {"budget": budget, "epochs": len(curve), "best": max(curve), "last": curve[-1], "curve": curve,
            "test_acc": float(res["test/acc"]), "wall_s": round(wall, 2),
            **{f"test_{g}": float(res[f"test/{g}"]) for g in ("many", "medium", "few") if f"test/{g}" in res},
            "scaled": {"epochs": run_cfg.get("epochs"), "warmup_epochs": run_cfg.get("schedule", {}).get("warmup_epochs")}}


def run_jobs(jobs, table, path, configs, full, data, shard=(0, 1)) -> None:
    """Train the jobs this shard owns (every N-th from K) that no shard has done yet; each run is saved
    (to the shard's own file) as soon as it ends."""
    k, n = shard
    if n == 1:
        out, mine = path, table
    else:
        out = path.with_name(f"{path.stem}.shard{k}.json")
        mine = json.loads(out.read_text()) if out.is_file() else {**table, "runs": {}}
    for j, (i, b) in enumerate(jobs):
        key = f"{i}:{b}"
        if j % n != k or key in table["runs"] or key in load_table(path)["runs"]:
            continue
        r = train_one(configs[i], b, full, data, verbose=VERBOSE)
        table["runs"][key] = mine["runs"][key] = r
        save_table(out, mine)
        print(f"[{time.strftime('%H:%M:%S')}] config {i:2d} budget {b:2d}: best {r['best']:.2f} last {r['last']:.2f} "
              f"test {r['test_acc']:.2f} ({r['wall_s']:.0f} s, {r['wall_s'] / max(1, r['epochs']):.1f} s/epoch)",
              flush=True)


def by_rank(table: dict, b: int, n: int) -> list[int]:
    """The order to train budget ``b`` in: best first at the largest smaller budget that every config
    has (the survivors that a simulated sh setting needs come first, should the bench be cut short);
    config order otherwise."""
    below = [c for c in {int(k.split(":")[1]) for k in table["runs"]} if c < b
             and all(f"{i}:{c}" in table["runs"] for i in range(n))]
    if not below:
        return list(range(n))
    c = max(below)
    return sorted(range(n), key=lambda i: (-table["runs"][f"{i}:{c}"]["best"], i))


# --------------------------------------------------------------------------------------- simulation
class Table:
    def __init__(self, table: dict):
        self.n = len(table["configs"])
        self.E = table["epochs"]
        self.runs = table["runs"]

    def value(self, i: int, b: int) -> float | None:
        r = self.runs.get(f"{i}:{b}")
        return None if r is None else r["best"]

    def prefix(self, i: int, epoch: int) -> float | None:
        r = self.runs.get(f"{i}:{self.E}")
        return None if r is None else max(r["curve"][:epoch])

    def full(self) -> list[float | None]:
        return [self.value(i, self.E) for i in range(self.n)]


def spearman(xs, ys) -> float | None:
    from scipy.stats import spearmanr

    pairs = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(pairs) < 3:
        return None
    rho = spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic
    return None if rho != rho else float(rho)


def ladder(grace: int, eta: float, E: int) -> list[int]:
    out, b = [], grace
    while b < E:
        out.append(int(round(b)))
        b *= eta
    return out + [E]


def successive_halving(T: Table, configs: list[int], rungs: list[int], eta: float, missing: set) -> dict | None:
    """One SH bracket: returns consumed epochs, survivors per rung, the returned config, or None if a
    (config, budget) value it needs is missing (added to ``missing``)."""
    alive, consumed, sizes = list(configs), 0, []
    for k, b in enumerate(rungs):
        sizes.append(len(alive))
        consumed += len(alive) * b
        vals = {i: T.value(i, b) for i in alive}
        gaps = [(i, b) for i, v in vals.items() if v is None]
        if gaps:
            missing.update(gaps)
            return None
        ranked = sorted(alive, key=lambda i: (-vals[i], i))
        if k == len(rungs) - 1:
            return {"consumed": consumed, "sizes": sizes, "winner": ranked[0]}
        alive = ranked[:math.ceil(len(alive) / eta)]
    return None


def sim_sh(T: Table, grace: int, eta: float, missing: set) -> dict | None:
    rungs = ladder(grace, eta, T.E)
    out = successive_halving(T, list(range(T.n)), rungs, eta, missing)
    if out is not None:
        out["rungs"] = rungs
    return out


def sim_hyperband(T: Table, grace: int, eta: float, missing: set) -> dict | None:
    """Hyperband (Li et al. 2018) over the same rungs, the N configs split among the brackets in the
    proportions n_h ~ (K+1)/(h+1) * eta^h (h = halvings in the bracket), in sampling order."""
    rungs = ladder(grace, eta, T.E)
    K = len(rungs) - 1
    w = [(K + 1) / (h + 1) * eta ** h for h in range(K, -1, -1)]
    n = [max(1, round(T.n * x / sum(w))) for x in w]
    while sum(n) > T.n:
        n[n.index(max(n))] -= 1
    while sum(n) < T.n:
        n[0] += 1
    consumed, winners, sizes, start = 0, [], [], 0
    for bracket, h in enumerate(range(K, -1, -1)):
        ids = list(range(start, start + n[bracket]))
        start += n[bracket]
        if not ids:
            continue
        out = successive_halving(T, ids, rungs[K - h:], eta, missing)
        if out is None:
            return None
        consumed += out["consumed"]
        winners.append(out["winner"])
        sizes.append("/".join(map(str, out["sizes"])))
    best = max(winners, key=lambda i: (T.value(i, T.E), -i))
    return {"consumed": consumed, "sizes": sizes, "winner": best, "rungs": rungs}


def asha_milestones(grace: int, rf: float, E: int) -> list[int]:
    max_rungs = int(math.log(E / grace) / math.log(rf) + 1)  # as ray.tune.schedulers.AsyncHyperBandScheduler
    return [int(grace * rf ** k) for k in range(max_rungs)]


def sim_asha(T: Table, grace: int, rf: float, missing: set) -> dict | None:
    import numpy as np

    miles = asha_milestones(grace, rf, T.E)
    recorded: dict[int, list[float]] = {m: [] for m in miles}
    consumed, finished = 0, []
    if any(T.value(i, T.E) is None for i in range(T.n)):
        missing.update((i, T.E) for i in range(T.n) if T.value(i, T.E) is None)
        return None
    for i in range(T.n):  # one trial at a time, in sampling order
        stopped_at = None
        for m in miles:
            if m > T.E:
                break
            v = T.prefix(i, m)
            prev = recorded[m]
            cutoff = float(np.nanpercentile(prev, (1 - 1 / rf) * 100)) if prev else None
            recorded[m].append(v)
            if cutoff is not None and v < cutoff:
                stopped_at = m
                break
        consumed += stopped_at or T.E
        if stopped_at is None or stopped_at == T.E:
            finished.append(i)
    winner = max(finished, key=lambda i: (T.value(i, T.E), -i))
    return {"consumed": consumed, "sizes": [len(r) for r in recorded.values()], "winner": winner, "rungs": miles}


GRACES = [1, 2, 3, 4]  # --graces
ETAS = [2, 3, 4]  # --etas


def sim_sh_rungs(T: Table, lower: tuple[int, ...], eta: float, missing: set) -> dict | None:
    """sh as ``ltsearch run --rungs F1,F2 --reduction-factor ETA`` runs it (request.rung_budgets)."""
    from ltsearch.search.request import rung_budgets

    rungs = rung_budgets(T.E, list(lower))
    out = successive_halving(T, list(range(T.n)), rungs, eta, missing)
    if out is not None:
        out["rungs"] = rungs
    return out


def rung_families(T: Table) -> list[tuple[float, ...]]:
    """One or two lower rungs (in epochs) of at least E/6 epochs (rounded: the default's first rung), at
    budgets some config has been measured at (a rung below E/6 ranks configs near chance: see the
    Spearman table). A second rung measured for a first rung's survivors only is enough for the
    settings that promote no more than those; the others come out incomplete."""
    from itertools import combinations

    lower = sorted({b for b in (int(k.split(":")[1]) for k in T.runs) if max(2, round(T.E / 6)) <= b < T.E})
    return [c for r in (1, 2) for c in combinations(lower, r)]


def simulate(T: Table) -> tuple[list[dict], set]:
    full = T.full()
    missing: set = set()
    rows = []
    known = [v for v in full if v is not None]
    best = max(known) if known else None

    def row(sched, setting, out, prefix_rungs=False):
        if out is None:
            rows.append({"scheduler": sched, "setting": setting, "incomplete": True})
            return
        rhos = []
        for b in out["rungs"][:-1] if sched != "asha" else out["rungs"]:
            xs = [T.prefix(i, b) for i in range(T.n)] if prefix_rungs else [T.value(i, b) for i in range(T.n)]
            rhos.append(spearman(xs, full) if b != T.E else 1.0)
        rows.append({"scheduler": sched, "setting": setting, "rungs": out["rungs"], "sizes": out["sizes"],
                     "ratio": out["consumed"] / (T.n * T.E), "consumed": out["consumed"], "winner": out["winner"],
                     "gap": best - full[out["winner"]], "rhos": rhos})

    rows.append({"scheduler": "none", "setting": "-", "rungs": [T.E], "sizes": [T.n], "ratio": 1.0,
                 "consumed": T.n * T.E, "winner": max(range(T.n), key=lambda i: (full[i] or -1, -i)),
                 "gap": 0.0, "rhos": []})
    for g in GRACES:
        for e in ETAS:
            if g < T.E:
                row("sh", f"grace {g}, eta {e}", sim_sh(T, g, e, missing))
    from ltsearch.search.request import rung_budgets
    from ltsearch.search.request import REDUCTION_FACTORS

    for fr in rung_families(T):
        for e in (2, 3, 4):
            label = f"--rungs {','.join(map(str, fr))} --reduction-factor {e}"
            if fr == tuple(rung_budgets(T.E)[:-1]) and e == REDUCTION_FACTORS["sh"]:
                label += " (the default)"
            row("sh", label, sim_sh_rungs(T, fr, e, missing))
    for g in GRACES:
        for e in ETAS:
            if g < T.E:
                row("hyperband", f"grace {g}, eta {e}", sim_hyperband(T, g, e, missing))
    for g in GRACES:
        for e in ETAS:
            row("asha", f"grace {g}, rf {e}", sim_asha(T, g, e, missing), prefix_rungs=True)
    return rows, missing


def fmt(x, spec=".2f"):
    return "—" if x is None else format(x, spec)


def report(table: dict, rows: list[dict]) -> str:
    T = Table(table)
    full = T.full()
    lines = [f"## P2 frontier: {table['dataset']} ({T.n} random KPS configs, seed {table['seed']}, E = {T.E} epochs)", ""]
    best = max(v for v in full if v is not None)
    bi = full.index(best)
    walls = [r["wall_s"] for r in table["runs"].values()]
    eps = sum(r["epochs"] for r in table["runs"].values())
    lines += [f"Full-budget best: config {bi} ({fmt(best)} val/acc; {table['values'][bi]}). "
              f"Paper point (config 0): {fmt(full[0])}. Training: {len(walls)} runs, {eps} epochs, "
              f"{sum(walls) / 60:.1f} min ({sum(walls) / max(1, eps):.1f} s/epoch).", ""]
    budgets = sorted({int(k.split(':')[1]) for k in table["runs"]})
    lines += ["Spearman of each budget's best-epoch val/acc with the full-budget objective (over the configs "
              "measured at both): complete schedule scaled to b / the first b epochs of the full schedule.", "",
              "Rank of the full-budget best config at that budget (1 = first; ties share the best rank).", "",
              "| b | complete schedule | prefix | configs | best config's rank: complete / prefix |",
              "|---|---|---|---|---|"]

    def rank(vals):
        if vals[bi] is None:
            return "—"
        return str(1 + sum(v is not None and v > vals[bi] for v in vals))

    for b in sorted(set(budgets) | {1, 2, 3, 4, 6, 8, 9}):
        if b > T.E:
            continue
        comp = [T.value(i, b) for i in range(T.n)]
        n_comp = sum(v is not None for v in comp)
        pre = [T.prefix(i, b) for i in range(T.n)]
        rho = fmt(spearman(comp, full)) + ("" if n_comp in (0, T.n) or spearman(comp, full) is None else " *")
        lines.append(f"| {b} | {rho} | "
                     f"{fmt(spearman(pre, full))} | {n_comp} | {rank(comp)} / {rank(pre)} |")
    lines += ["", "\\* over the configs measured at that budget only (the survivors that some sh setting trains "
              "there). — : undefined (every config has the same value, e.g. chance accuracy after 1 epoch).", ""]
    lines += ["Gap = best full-budget val/acc over the configs - the full-budget val/acc of the config the "
              "scheduler returns. sh / Hyperband rank ties by sampling order. ASHA: one trial at a time in "
              "sampling order, best-so-far value at each rung. Spearman per rung: over all configs "
              "(for budgets measured on survivors only, over those).", ""]
    lines += ["| scheduler | setting | rungs (epochs) | configs per rung | epochs / full | returned config | gap (pt) | Spearman per rung |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("incomplete"):
            lines.append(f"| {r['scheduler']} | {r['setting']} | (needs runs not yet measured) | | | | | |")
            continue
        lines.append(f"| {r['scheduler']} | {r['setting']} | {', '.join(map(str, r['rungs']))} | "
                     f"{', '.join(map(str, r['sizes']))} | {r['ratio']:.3f} | {r['winner']} | {r['gap']:.2f} | "
                     f"{', '.join(fmt(x) for x in r['rhos'])} |")
    ok = [r for r in rows if not r.get("incomplete") and r["scheduler"] != "none" and r["gap"] <= 0.5]
    lines.append("")
    if ok:
        c = min(ok, key=lambda r: (r["ratio"], r["gap"]))
        ties = [f"{r['scheduler']} {r['setting']}" for r in ok if abs(r["ratio"] - c["ratio"]) < 1e-9]
        lines.append(f"Cheapest with gap <= 0.5 pt: {'; '.join(ties)} ({c['ratio']:.3f} of the epochs).")
    else:
        lines.append("No setting keeps the gap <= 0.5 pt.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", choices=["digits-lt", "cifar10-lt"])
    ap.add_argument("--root", default=str(Path.home() / ".cache" / "ltsearch" / "cifar10-jpg"))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--budgets", default="1,2,3,4,6")
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--graces", default="1,2,3,4", help="the ladders' first rungs to simulate")
    ap.add_argument("--etas", default="2,3,4", help="the ladders' eta / rf to simulate")
    ap.add_argument("--shard", default="0/1", help="K/N: train every N-th job from K (N processes, one table)")
    ap.add_argument("--no-extras", action="store_true", help="do not train the survivors' extra budgets")
    ap.add_argument("--simulate-only", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="print every epoch")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    GRACES[:] = [int(g) for g in args.graces.split(",")]
    ETAS[:] = [float(e) if "." in e else int(e) for e in args.etas.split(",")]
    shard = tuple(int(x) for x in args.shard.split("/"))
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    path = RESULTS / f"p2_{args.dataset}.json"
    table = load_table(path)
    if not args.simulate_only:
        import torch

        torch.set_num_threads(args.threads)
        req = make_request(args)
        values, configs, base = sample_configs(req)
        if table:
            assert table["configs"] == configs, f"{path} holds other configs; move it away to start afresh"
        else:
            table = {"dataset": args.dataset, "epochs": args.epochs, "seed": args.seed, "threads": args.threads,
                     "request": {k: v for k, v in vars(req).items() if isinstance(v, (str, int, float, list, type(None)))},
                     "values": values, "configs": configs, "runs": {}}
            save_table(path, table)
        from ltsearch.search.engine import _load_data

        data = _load_data(base)
        E = args.epochs
        budgets = [int(b) for b in args.budgets.split(",") if int(b) != E]
        run_jobs([(i, E) for i in range(args.trials)] + [(i, b) for b in budgets for i in by_rank(table, b, args.trials)],
                 table, path, configs, E, data, shard)
        while not args.no_extras:
            table = load_table(path)
            _, missing = simulate(Table(table))
            if not missing:
                break
            print(f"extras: {sorted(missing)}", flush=True)
            run_jobs(sorted(missing, key=lambda p: (p[1], p[0])), table, path, configs, E, data, shard)
            if shard[1] > 1:
                break  # the other shards' extras may still be running: rerun to simulate them all
    table = load_table(path)
    rows, missing = simulate(Table(table))
    md = report(table, rows)
    (RESULTS / f"p2_{table['dataset']}_frontier.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()

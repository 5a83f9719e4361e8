"""P2 and P5 on a GPU: more configs, more budgets and more training seeds than the 2-core box affords
(issue 12 items 4 and 7), measured in one short GPU run and simulated here.

    python bench/gpu_frontier.py plan [--trials 32]                       # here: samples, writes the plan
    python bench/gpu_frontier.py plan --stage ladder --have bench/results/gpu_runs*.jsonl --out PLAN  # the next run
    python bench/gpu_frontier.py work PLAN --root R --runs RUNS.jsonl --deadline-s 420 [--device cuda]
    python bench/gpu_frontier.py report PLAN RUNS.jsonl [RUNS2.jsonl ...]

``plan`` (needs Optuna; the GPU machine has none) lists the jobs in priority order:

1. P5 at 20 epochs: the ``--trials`` configs that ``ltsearch run kps --dataset cifar10-lt --search random
   --seed 0`` samples (the paper point first), each as a complete 5-epoch schedule (the default sh rung)
   and at the full 20 epochs, and the paper-default Balanced Softmax at 20 epochs, seeds 0, 1, 2.
2. P2 at 12 epochs on CIFAR-10-LT (the 16 configs of ``bench/p2_frontier.py``), training seed 1, at the
   budgets 2, 3, 4, 6 and 12.
3. P2 on digits-lt (its 16 configs), training seeds 1-4, budgets 2, 3, 4, 6 and 12.
4. The 8 best 20-epoch configs of step 1 (by seed-0 val, resolved when the job starts) retrained with seeds
   1 and 2: how much of the search's edge is training noise.
5. P2 at 12 epochs on CIFAR-10-LT, seed 2, and seed 0 at the budgets 2 and 4 (seed 0's 3, 6, 12 were
   measured on the CPU).

``work`` processes claim jobs one at a time (an exclusive lock file per job), so N of them share one GPU
without a static split; each finished run is one line appended to ``RUNS`` (a killed run loses only
itself), and no job starts after ``--deadline-s``. Every run overrides the device, the data root and
``amp`` / ``channels_last`` (``auto``: fp32 for the CIFAR ResNets) and sets the training seed.

``report`` writes one ``bench/p2_frontier.py`` table per (dataset, seed) under ``bench/results/gpu/``,
simulates every scheduler per seed with ``p2_frontier.simulate`` and prints, per setting, the gap on each
seed and its mean (the gap a user meets on average), and P5: the config each scheduler's search returns,
its held-out test accuracy, and the paper defaults on the same GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import p2_frontier as p2  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TABLE_SIZES: dict[str, list] = {}  # table -> its configs (set by ``work``)
BS_PAPER = {  # `ltsearch train --preset bs/cifar10-lt --epochs 20 --set model.name=resnet8 --set optim.batch_size=128`
    "dataset": {"name": "cifar10-lt", "root": None, "imbalance_ratio": 100.0, "val": "split", "seed": 0,
                "profile": "exp", "download": False, "augment": "pad-crop-flip"},
    "model": {"name": "resnet8", "init": "default"}, "method": {"name": "bs", "params": {}},
    "optim": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0002, "nesterov": False, "batch_size": 128},
    "schedule": {"name": "multistep", "warmup_epochs": 5.0, "milestones": [0.8, 0.9], "gamma": 0.01},
    "epochs": 20, "seed": 0, "device": "auto", "amp": "auto", "channels_last": "auto", "compile": False,
    "eval_every": 1, "tta_flip": False,
}


# --------------------------------------------------------------------------------------- plan
def plan(args) -> None:
    if args.stage == "quarter":
        return quarter_plan(args)
    ns = argparse.Namespace(dataset="cifar10-lt", root=args.root, epochs=20, seed=0, trials=args.trials)
    values, configs, _ = p2.sample_configs(p2.make_request(ns))
    c12 = p2.load_table(RESULTS / "p2_cifar10-lt.json")
    dig = p2.load_table(RESULTS / "p2_digits-lt.json")
    tables = {
        "cifar10-lt-e20": {"dataset": "cifar10-lt", "epochs": 20, "values": values, "configs": configs},
        "cifar10-lt": {"dataset": "cifar10-lt", "epochs": 12, "values": c12["values"], "configs": c12["configs"]},
        "digits-lt": {"dataset": "digits-lt", "epochs": 12, "values": dig["values"], "configs": dig["configs"]},
        "bs-paper-e20": {"dataset": "cifar10-lt", "epochs": 20, "values": [{}], "configs": [BS_PAPER]},
    }
    n20, n12, nd = len(configs), len(c12["configs"]), len(dig["configs"])
    jobs = first_jobs(n20, n12, nd) if args.stage == "first" else ladder_jobs(n20)
    have = {(r["table"], r["config"], r["budget"], r["seed"]) for r in read_runs(args.have)}
    jobs = [j for j in jobs if tuple(j) not in have]
    out = Path(args.out)
    out.write_text(json.dumps({"tables": tables, "jobs": jobs}, indent=1))
    epochs = sum(j[2] for j in jobs)
    print(f"{out}: {len(jobs)} jobs, {epochs} training epochs ({n20} configs at 20 epochs)")


def first_jobs(n20: int, n12: int, nd: int) -> list[list]:
    """Session 9's first GPU run (the module docstring's steps 1-5)."""
    jobs = [["bs-paper-e20", 0, 20, 0]]
    for i in range(n20):
        jobs += [["cifar10-lt-e20", i, 20, 0], ["cifar10-lt-e20", i, 5, 0]]
    jobs += [["bs-paper-e20", 0, 20, s] for s in (1, 2)]
    jobs += [["cifar10-lt", i, b, 1] for b in (12, 3, 6, 2, 4) for i in range(n12)]
    jobs += [["digits-lt", i, b, s] for s in (1, 2, 3, 4) for b in (12, 3, 6, 2, 4) for i in range(nd)]
    jobs += [["cifar10-lt-e20", f"rank{r}", 20, s] for r in range(8) for s in (1, 2)]
    jobs += [["cifar10-lt", i, b, 2] for b in (12, 3, 6, 2, 4) for i in range(n12)]
    jobs += [["cifar10-lt", i, b, 0] for b in (2, 4) for i in range(n12)]
    return jobs


def ladder_jobs(n20: int) -> list[list]:
    """The next GPU run: the default sh ladder at 20 epochs (rungs 3 and 7) on seed 0, then seeds 1 and 2 of
    every 20-epoch config at 20, 3 and 7 epochs: three complete 20-epoch searches, so the default's picks
    at 20 epochs can be judged on held-out seeds as at 12 (``held_out_regret``)."""
    from ltsearch.search.request import rung_budgets

    lower = rung_budgets(20)[:-1]  # [3, 7]
    jobs = [["cifar10-lt-e20", i, b, 0] for b in lower for i in range(n20)]
    return jobs + [["cifar10-lt-e20", i, b, s] for s in (1, 2) for b in (20, *lower) for i in range(n20)]


def quarter_jobs(n20: int, seeds=(0, 1, 2, 3), keep: int = 16) -> list[list]:
    """Session 14's run: every 20-epoch config on ``seeds`` as a complete 5-epoch schedule (a rung at 1/4),
    and the ``keep`` best of each seed's 5-epoch rung at 10 epochs (1/2): the sh settings with rungs at
    1/4 and 1/2 (keep 1 in 2, 3 or 4), simulated at 20 epochs as at 12. A seed's 10-epoch jobs follow
    the next seed's 5-epoch jobs, so no worker waits long for a rung to finish."""
    five = [[["cifar10-lt-e20", i, 5, s] for i in range(n20)] for s in seeds]
    ten = [[["cifar10-lt-e20", f"rank{r}@5", 10, s] for r in range(keep)] for s in seeds]
    jobs = five[0]
    for k in range(1, len(seeds)):
        jobs += five[k] + ten[k - 1]
    return jobs + ten[-1]


def quarter_plan(args) -> None:
    tables = json.loads((RESULTS / "gpu_plan.json").read_text())["tables"]  # the 32 configs of session 9
    have = {(r["table"], r["config"], r["budget"], r["seed"]) for r in read_runs(args.have)}
    jobs = [j for j in quarter_jobs(len(tables["cifar10-lt-e20"]["configs"])) if tuple(j) not in have]
    Path(args.out).write_text(json.dumps({"tables": tables, "jobs": jobs}, indent=1))
    print(f"{args.out}: {len(jobs)} jobs, {sum(j[2] for j in jobs)} training epochs")


# --------------------------------------------------------------------------------------- work
def read_runs(paths) -> list[dict]:
    runs = []
    for p in paths:
        if Path(p).is_file():
            runs += [json.loads(line) for line in Path(p).read_text().splitlines() if line.strip()]
    return runs


def job_key(table: str, config, budget: int, seed: int) -> str:
    return f"{table}.{config}.{budget}.{seed}"


def resolve_rank(runs: list[dict], table: str, rank: str, seed: int = 0) -> int | None:
    """``rankR``: the config with the R-th best (0 = best) seed-0 full-budget val of ``table``;
    ``rankR@B``: the R-th best val at budget B on the job's own ``seed`` (a rung's survivors)."""
    r, _, at = rank[4:].partition("@")
    if at:
        seen = {x["config"]: x["best"] for x in runs if x["table"] == table and x["seed"] == seed and x["budget"] == int(at)}
    else:
        seen = {x["config"]: x["best"] for x in runs if x["table"] == table and x["seed"] == 0 and x["budget"] == x["epochs_full"]}
    if len(seen) < len(TABLE_SIZES.get(table, seen)):
        return None  # wait for every config's run: the rank is over all of them
    order = sorted(seen, key=lambda i: (-seen[i], i))
    return order[int(r)] if int(r) < len(order) else None


def run_config(cfg: dict, root: str | None, device: str, seed: int) -> dict:
    cfg = json.loads(json.dumps(cfg))
    if cfg["dataset"]["name"] != "digits-lt":
        cfg["dataset"]["root"] = root
    cfg.update(device=device, amp="auto", channels_last="auto", seed=seed)
    cfg.pop("cache_dir", None)
    return cfg


def work(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    spec = json.loads(Path(args.plan).read_text())
    tables, jobs = spec["tables"], spec["jobs"]
    TABLE_SIZES.update({k: t["configs"] for k, t in tables.items()})
    claims = Path(args.claims)
    claims.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + args.deadline_s
    data: dict[str, object] = {}
    cap = args.epochs_cap
    for table, config, budget, seed in jobs:
        if time.time() > deadline:
            print(f"deadline: stopping before {table} {config} {budget} seed {seed}", flush=True)
            break
        key = job_key(table, config, budget, seed)
        try:
            os.close(os.open(claims / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        done = read_runs([args.runs])
        if any(job_key(r["table"], r["job_config"], r["budget"], r["seed"]) == key for r in done):
            continue
        i = config
        if isinstance(config, str):
            while (i := resolve_rank(done, table, config, seed)) is None and time.time() < deadline:
                time.sleep(5)  # the 20-epoch runs of step 1 are still training elsewhere
                done = read_runs([args.runs])
            if i is None:
                continue
        t = tables[table]
        cfg = run_config(t["configs"][i], args.root, args.device, seed)
        name = cfg["dataset"]["name"]
        if name not in data:
            from ltsearch.data import DatasetSpec, load_dataset
            from ltsearch.config import config_from_dict

            data[name] = load_dataset(DatasetSpec.from_config(config_from_dict(cfg, where=table).dataset))
        full = t["epochs"]
        if cap:  # a dry run: every job shrunk to ``cap`` epochs
            from ltsearch.train.budget import scale_to_budget

            cfg, full, budget_run = scale_to_budget(cfg, cap), cap, cap
        else:
            budget_run = budget
        try:
            r = p2.train_one(cfg, budget_run, full, data[name])
        except Exception as err:  # one failed run costs only itself
            print(f"{key}: {type(err).__name__}: {err}", flush=True)
            continue
        gpu = torch.cuda.is_available() and args.device != "cpu"
        line = {**r, "table": table, "job_config": config, "config": i, "budget": budget, "seed": seed,
                "epochs_full": t["epochs"], "device": torch.cuda.get_device_name() if gpu else "cpu"}
        fd = os.open(args.runs, os.O_CREAT | os.O_APPEND | os.O_WRONLY)
        try:
            os.write(fd, (json.dumps(line) + "\n").encode())
        finally:
            os.close(fd)
        print(f"[{time.strftime('%H:%M:%S')}] {table} config {i} budget {budget} seed {seed}: best {r['best']:.2f} "
              f"test {r['test_acc']:.2f} ({r['wall_s']:.1f} s)", flush=True)


# --------------------------------------------------------------------------------------- report
def tables_by_seed(spec: dict, runs: list[dict]) -> dict[tuple[str, int], dict]:
    """One p2_frontier table per (table, seed); CIFAR-10-LT 12-epoch seed 0 adds the CPU-measured runs."""
    out: dict[tuple[str, int], dict] = {}
    for r in runs:
        t = spec["tables"][r["table"]]
        tab = out.setdefault((r["table"], r["seed"]), {"dataset": t["dataset"], "epochs": t["epochs"], "seed": r["seed"],
                                                       "values": t["values"], "configs": t["configs"], "runs": {}})
        tab["runs"][f"{r['config']}:{r['budget']}"] = r
    for name in ("cifar10-lt", "digits-lt"):
        cpu = p2.load_table(RESULTS / f"p2_{name}.json")
        tab = out.setdefault((name, 0), {**{k: v for k, v in cpu.items() if k != "runs"}, "runs": {}})
        for k, v in cpu["runs"].items():
            tab["runs"].setdefault(k, v)
    return out


def report(args) -> None:
    spec = json.loads(Path(args.plan).read_text())
    runs = read_runs(args.runs)
    by_seed = tables_by_seed(spec, runs)
    outdir = RESULTS / "gpu"
    outdir.mkdir(exist_ok=True)
    lines = [f"# GPU frontier ({len(runs)} GPU runs, {sum(r['epochs'] for r in runs)} epochs; "
             f"{sorted({r['device'] for r in runs})})", ""]
    verdicts: dict = {}
    for name in ("digits-lt", "cifar10-lt", "cifar10-lt-e20"):
        seeds = sorted(s for (t, s) in by_seed if t == name)
        sims = {}
        for s in seeds:
            tab = by_seed[(name, s)]
            p2.save_table(outdir / f"p2_{name}.s{s}.json", tab)
            T = p2.Table(tab)
            if any(v is None for v in T.full()):
                lines.append(f"{name} seed {s}: {sum(v is None for v in T.full())} configs lack the full budget; skipped")
                continue
            rows, _ = p2.simulate(T)
            (outdir / f"p2_{name}.s{s}_frontier.md").write_text(p2.report(tab, rows))
            sims[s] = {(r["scheduler"], r["setting"]): r for r in rows if not r.get("incomplete")}
        if not sims:
            continue
        lines += [f"## {name}: gap per training seed (seeds {sorted(sims)}), mean", "",
                  "| scheduler | setting | epochs / full | " + " | ".join(f"gap s{s}" for s in sims) + " | mean gap | seeds |",
                  "|---|---|---|" + "---|" * len(sims) + "---|---|"]
        settings = sorted({k for s in sims.values() for k in s}, key=lambda k: (k[0] != "none", k[0], k[1]))
        summary = []
        for k in settings:
            have = [sims[s][k] for s in sims if k in sims[s]]
            ratio = statistics.mean(r["ratio"] for r in have)
            mean = statistics.mean(r["gap"] for r in have)
            summary.append((k, ratio, mean, len(have), max(r["gap"] for r in have)))
            cells = " | ".join(f"{sims[s][k]['gap']:.2f}" if k in sims[s] else "—" for s in sims)
            lines.append(f"| {k[0]} | {k[1]} | {ratio:.3f} | {cells} | {mean:.2f} | {len(have)} |")
        lines += regret_lines(name, {s: p2.Table(by_seed[(name, s)]) for s in sims}, sims, summary, verdicts)
        lines += winner_rank_lines(name, {s: p2.Table(by_seed[(name, s)]) for s in sims},
                                   budgets=(3, 5, 7, 10) if name.endswith("-e20") else (2, 3, 4, 6))
        full_seeds = [x for x in summary if x[3] == len(sims) and x[0][0] != "none"]
        lines.append("")
        for what, col in (("mean gap", 2), ("gap on every seed", 4)):
            ok = sorted((x for x in full_seeds if x[col] <= 0.5), key=lambda x: x[1])[:3]
            lines.append(f"Cheapest with {what} <= 0.5 pt over all {len(sims)} seeds: "
                         + "; ".join(f"{x[0][0]} {x[0][1]} ({x[1]:.3f})" for x in ok) if ok else
                         f"No setting keeps the {what} <= 0.5 pt over all {len(sims)} seeds.")
        lines.append("")
    lines += both_lines(verdicts)
    lines += three_lines(verdicts)
    lines += returned_lines(runs, by_seed)
    lines += p5_lines(spec, runs, by_seed)
    md = "\n".join(lines) + "\n"
    (outdir / "gpu_frontier.md").write_text(md)
    print(md)


def held_out_regret(tables: dict[int, "p2.Table"], picks: dict[int, int]) -> dict[int, float]:
    """The true-quality loss of each seed's pick, judged on the other seeds: for the search run with
    training seed s, max over configs of their mean full-budget val on the seeds != s, minus the same
    mean of the config the search returned. Seed s chose the pick, so only the other seeds judge it
    without that seed's luck; a search that trains every config fully (``none``) has a regret too."""
    out = {}
    for s, pick in picks.items():
        others = [t for t in tables if t != s]
        if not others:
            continue
        score = [statistics.mean(tables[t].value(i, tables[t].E) for t in others) for i in range(tables[s].n)]
        out[s] = max(score) - score[pick]
    return out


def regret_lines(name: str, tables: dict, sims: dict, summary: list, verdicts: dict) -> list[str]:
    """Per setting: the held-out-seed regret of its picks, mean over the seeds it could be simulated on
    (a seed measured at fewer budgets lacks some settings), against ``none``'s on the same seeds;
    ``verdicts[name][setting] = (epochs / full, mean regret - none's)``."""
    if len(tables) < 2:
        return []
    base = held_out_regret(tables, {s: sims[s][("none", "-")]["winner"] for s in sims})
    lines = ["", f"### {name}: what each pick is worth on the other seeds ({len(tables)} seeds)", "",
             "Regret = the best config's mean full-budget val over the seeds that did not choose, minus the "
             "pick's (`held_out_regret`); `none` trains every config fully and is the reference, on the same "
             "seeds.", "",
             "| scheduler | setting | epochs / full | regret per seed | mean regret | mean − none's | seeds |",
             "|---|---|---|---|---|---|---|"]
    for (k, ratio, _, n, _) in summary:
        have = [s for s in sims if k in sims[s]]
        if len(have) < 2:
            continue
        reg = held_out_regret(tables, {s: sims[s][k]["winner"] for s in have})
        mean = statistics.mean(reg.values())
        diff = statistics.mean(reg[s] - base[s] for s in reg)
        verdicts.setdefault(name, {})[k] = (ratio, diff)
        lines.append(f"| {k[0]} | {k[1]} | {ratio:.3f} | {', '.join(f'{reg[s]:.2f}' for s in sorted(reg))} | "
                     f"{mean:.2f} | {diff:+.2f} | {len(reg)} |")
    ok = sorted((r, k) for k, (r, d) in verdicts[name].items() if k[0] != "none" and d <= 0.5)[:3]
    lines += ["", "Cheapest whose mean regret is within 0.5 pt of training every config fully: "
              + "; ".join(f"{k[0]} {k[1]} ({r:.3f})" for r, k in ok), ""]
    return lines


def winner_rank(T: "p2.Table", b: int) -> int | None:
    """The rank (1 = best) at budget ``b`` of the config that wins the full budget (ties: the lower
    index first, as the dispatcher orders them); ``None`` when a config lacks budget ``b``."""
    full, vals = T.full(), [T.value(i, b) for i in range(T.n)]
    if any(v is None for v in vals + full):
        return None
    w = max(range(T.n), key=lambda i: (full[i], -i))
    return 1 + sum((vals[i], -i) > (vals[w], -w) for i in range(T.n))


def winner_rank_lines(name: str, tables: dict[int, "p2.Table"], budgets=(2, 3, 4, 6)) -> list[str]:
    """Per seed, where the full-budget winner ranks at each lower budget: a rung that ranks it below its
    keep fraction loses it, whatever the promotion rule built on that rung's metric."""
    lines = [f"### {name}: the full-budget winner's rank at each lower budget (of the configs)", "",
             "| seed | winner | its full-budget val | runner-up's | " + " | ".join(f"rank at {b} ep" for b in budgets)
             + " |", "|---|---|---|---|" + "---|" * len(budgets)]
    for s, T in sorted(tables.items()):
        full = T.full()
        w = max(range(T.n), key=lambda i: (full[i], -i))
        ranks = [winner_rank(T, b) for b in budgets]
        lines.append(f"| {s} | {w} | {full[w]:.1f} | {sorted(full, reverse=True)[1]:.1f} | "
                     + " | ".join("—" if r is None else f"{r} / {T.n}" for r in ranks) + " |")
    return lines + [""]


def both_lines(verdicts: dict, names=("digits-lt", "cifar10-lt")) -> list[str]:
    """The settings within 0.5 pt of ``none``'s held-out regret on every dataset, cheapest first (the
    same setting labels: both datasets train 12 epochs)."""
    if not all(n in verdicts for n in names):
        return []
    common = set.intersection(*(set(verdicts[n]) for n in names))
    ok = sorted((max(verdicts[n][k][0] for n in names), k) for k in common
                if k[0] != "none" and all(verdicts[n][k][1] <= 0.5 for n in names))
    return [f"## Within 0.5 pt of training every config fully, on held-out seeds, on {' and '.join(names)}", "",
            *(f"- {k[0]} {k[1]}: {r:.3f} of the epochs; mean regret − none's: "
              + ", ".join(f"{n} {verdicts[n][k][1]:+.2f}" for n in names) for r, k in ok[:6]), ""]


def at_budget(setting: str, E: int, to: int) -> str:
    """An sh ``--rungs`` label of an ``E``-epoch table as the same fractions of ``to`` epochs
    (``--rungs 2,4`` of 12 is ``--rungs 3,7`` of 20, as ``request.rung_budgets`` rounds 1/6 and 1/3)."""
    from ltsearch.search.request import rung_budgets

    head, _, tail = setting.removeprefix("--rungs ").partition(" ")
    lower = rung_budgets(to, [int(b) / E for b in head.split(",")])[:-1]
    return f"--rungs {','.join(map(str, lower))} {tail}".replace(" (the default)", "")


def three_lines(verdicts: dict, names=("digits-lt", "cifar10-lt"), e20="cifar10-lt-e20") -> list[str]:
    """The sh settings (as fractions of the budget) within 0.5 pt of ``none``'s held-out regret on both
    12-epoch tables and on CIFAR-10-LT at 20 epochs (P5's budget), cheapest first; the default always."""
    if not all(n in verdicts for n in (*names, e20)):
        return []
    e20v = {k[1].replace(" (the default)", ""): v for k, v in verdicts[e20].items() if k[0] == "sh"}
    rows = []
    for k in set.intersection(*(set(verdicts[n]) for n in names)):
        if k[0] != "sh" or not k[1].startswith("--rungs") or (k20 := at_budget(k[1], 12, 20)) not in e20v:
            continue
        vals = [verdicts[n][k] for n in names] + [e20v[k20]]
        if all(v[1] <= 0.5 for v in vals) or "(the default)" in k[1]:
            rows.append((max(v[0] for v in vals), k[1], k20, vals))
    return [f"## Within 0.5 pt of training every config fully, held out, on {', '.join(names)} and {e20}", "",
            f"| setting at 12 epochs | at 20 | epochs / full (most) | {' | '.join(names)} | {e20} |",
            "|---|---|---|" + "---|" * (len(names) + 1),
            *(f"| {a} | {b} | {r:.3f} | " + " | ".join(f"{v[1]:+.2f}" for v in vals) + " |"
              for r, a, b, vals in sorted(rows)), ""]


def p5_lines(spec: dict, runs: list[dict], by_seed: dict) -> list[str]:
    if ("cifar10-lt-e20", 0) not in by_seed:
        return []
    tab = by_seed[("cifar10-lt-e20", 0)]
    T = p2.Table(tab)
    full = T.full()
    bs = [r for r in runs if r["table"] == "bs-paper-e20"]
    retrain = {}
    for r in runs:
        if r["table"] == "cifar10-lt-e20" and r["budget"] == 20:
            retrain.setdefault(r["config"], {})[r["seed"]] = r
    lines = ["## P5 at 20 epochs on the GPU: the search's pick against the paper defaults", "",
             "| run | seed | val acc | test acc | test many | test medium |", "|---|---|---|---|---|---|"]
    for r in sorted(bs, key=lambda r: r["seed"]):
        lines.append(f"| BS paper default | {r['seed']} | {r['best']:.2f} | {r['test_acc']:.2f} | "
                     f"{r.get('test_many', float('nan')):.2f} | {r.get('test_medium', float('nan')):.2f} |")
    if bs:
        lines.append(f"| BS paper default, mean | | {statistics.mean(r['best'] for r in bs):.2f} | "
                     f"{statistics.mean(r['test_acc'] for r in bs):.2f} | | |")
    picks = []
    missing: set = set()
    if all(v is not None for v in full):
        picks.append(("none (all configs at 20 epochs)", max(range(T.n), key=lambda i: (full[i], -i))))
        from ltsearch.search.request import rung_budgets
        from ltsearch.search.request import REDUCTION_FACTORS

        for lower, eta in (((5,), 3), ((5,), 4), (tuple(rung_budgets(T.E)[:-1]), REDUCTION_FACTORS["sh"])):
            out = p2.sim_sh_rungs(T, lower, eta, missing)
            if out is not None:
                picks.append((f"sh --rungs {','.join(map(str, lower))} keep 1 in {eta:g} "
                              f"({out['consumed'] / (T.n * T.E):.3f} of the epochs)", out["winner"]))
    lines.append(f"| KPS paper default (config 0) | 0 | {full[0] or float('nan'):.2f} | "
                 f"{tab['runs'].get('0:20', {}).get('test_acc', float('nan')):.2f} | | |")
    for label, i in picks:
        seeds = retrain.get(i, {})
        for s in sorted(seeds):
            r = seeds[s]
            lines.append(f"| KPS search pick, {label}: config {i} | {s} | {r['best']:.2f} | {r['test_acc']:.2f} | "
                         f"{r.get('test_many', float('nan')):.2f} | {r.get('test_medium', float('nan')):.2f} |")
        if len(seeds) > 1:
            lines.append(f"| config {i}, mean of {len(seeds)} seeds | | {statistics.mean(r['best'] for r in seeds.values()):.2f} | "
                         f"{statistics.mean(r['test_acc'] for r in seeds.values()):.2f} | | |")
    lines += ["", f"Configs: {T.n}; knobs of the picks: "
              + "; ".join(f"{i}: {json.dumps(tab['values'][i])}" for _, i in picks), ""]
    order = sorted((i for i in range(T.n) if full[i] is not None), key=lambda i: -full[i])[:8]
    lines += ["Top 8 by seed-0 val, retrained: config: val / test per seed",
              *(f"- {i}: " + ", ".join(f"s{s} {r['best']:.2f} / {r['test_acc']:.2f}" for s, r in sorted(retrain.get(i, {}).items()))
                for i in order), ""]
    return lines


def returned(tests: dict[int, list[float]], picks: dict[int, int], bs: dict[int, float]) -> dict:
    """What a search hands its user, as held-out test accuracy: ``tests[s][i]`` = config i's full-budget
    test accuracy on training seed s, ``picks[s]`` = the config the search run with seed s returned,
    ``bs[s]`` = the paper-default Balanced Softmax on seed s. ``run``: the returned run's test, mean over
    seeds; ``vs_bs``: its mean difference to BS paired by seed; ``retrained``: the picks retrained on the
    other seeds (mean over seeds of the mean over the others), which removes the luck of the chosen run."""
    seeds = sorted(picks)
    run = [tests[s][picks[s]] for s in seeds]
    other = [statistics.mean(tests[t][picks[s]] for t in seeds if t != s) for s in seeds if len(seeds) > 1]
    return {"per_seed": run, "run": statistics.mean(run), "vs_bs": statistics.mean(r - bs[s] for r, s in zip(run, seeds)),
            "retrained": statistics.mean(other) if other else None}


def returned_lines(runs: list[dict], by_seed: dict, name: str = "cifar10-lt-e20") -> list[str]:
    """Item 7 per training seed: the run each search returns (``none``, the default sh, session 10's
    default) against the paper-default BS and KPS of the same seed."""
    from ltsearch.search.request import rung_budgets
    from ltsearch.search.request import REDUCTION_FACTORS

    bs = {r["seed"]: r["test_acc"] for r in runs if r["table"] == "bs-paper-e20" and r["budget"] == 20}
    tables = {s: p2.Table(by_seed[(t, s)]) for (t, s) in by_seed if t == name and s in bs}
    tables = {s: T for s, T in tables.items() if all(v is not None for v in T.full())}
    if len(tables) < 2:
        return []
    tests = {s: [by_seed[(name, s)]["runs"][f"{i}:{T.E}"]["test_acc"] for i in range(T.n)] for s, T in tables.items()}
    E = next(iter(tables.values())).E
    settings = [("none (every config fully)", None, None), ("the default sh", tuple(rung_budgets(E)[:-1]), REDUCTION_FACTORS["sh"]),
                ("session 10's default", (3, 7), 3), ("session 10's rungs, keep 1 in 2", (3, 7), 2)]
    lines = [f"## What each search returns on {name}, held-out test (seeds {sorted(tables)})", "",
             f"BS = the paper-default Balanced Softmax on the same seed (mean {statistics.mean(bs[s] for s in tables):.2f}); "
             f"the paper-default KPS (config 0): mean {statistics.mean(t[0] for t in tests.values()):.2f}.", "",
             "| search | epochs / full | picks | test of the returned run | mean | − BS (paired) | picks retrained on the other seeds |",
             "|---|---|---|---|---|---|---|"]
    for label, lower, eta in settings:
        picks, ratio = {}, []
        for s, T in tables.items():
            if lower is None:
                picks[s] = max(range(T.n), key=lambda i: (T.full()[i], -i))
                ratio.append(1.0)
                continue
            out = p2.sim_sh_rungs(T, lower, eta, set())
            if out is None:
                break
            picks[s] = out["winner"]
            ratio.append(out["consumed"] / (T.n * T.E))
        if len(picks) < len(tables):
            lines.append(f"| {label} | (needs runs not measured) | | | | | |")
            continue
        r = returned(tests, picks, bs)
        setting = "" if lower is None else f" (`--rungs {','.join(map(str, lower))} --reduction-factor {eta:g}`)"
        lines.append(f"| {label}{setting} | {statistics.mean(ratio):.3f} | {', '.join(str(picks[s]) for s in sorted(picks))} | "
                     f"{', '.join(f'{v:.2f}' for v in r['per_seed'])} | {r['run']:.2f} | {r['vs_bs']:+.2f} | {r['retrained']:.2f} |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("plan")
    a.add_argument("--trials", type=int, default=32)
    a.add_argument("--root", default=str(Path.home() / ".cache" / "ltsearch" / "cifar10-jpg"))
    a.add_argument("--out", default=str(RESULTS / "gpu_plan.json"))
    a.add_argument("--stage", choices=["first", "ladder", "quarter"], default="first",
                   help="first: session 9's run; ladder: the default sh ladder at 20 epochs and seed 1; "
                   "quarter: rungs at 5 and 10 of the 20 epochs, seeds 0-3")
    a.add_argument("--have", nargs="*", default=[], help="runs files whose (config, budget, seed) are not planned again")
    a = sub.add_parser("work")
    a.add_argument("plan")
    a.add_argument("--root", required=True)
    a.add_argument("--runs", required=True)
    a.add_argument("--claims", default="/tmp/gpu_frontier_claims")
    a.add_argument("--device", default="cuda")
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--deadline-s", type=float, default=420)
    a.add_argument("--epochs-cap", type=int, default=0, help="dry run: every job at this many epochs")
    a = sub.add_parser("report")
    a.add_argument("plan")
    a.add_argument("runs", nargs="+")
    args = ap.parse_args()
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    {"plan": plan, "work": work, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()

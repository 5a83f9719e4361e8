"""Would a cut that respects the val split's noise keep the winner more cheaply? (issue 12 item 4)

Simulated on the measured runs (no training): successive halving at session 10's and session 14's rungs, keeping the best
``1 / eta`` of each rung *plus* every config within ``z`` standard errors of the cut, where the standard
error is that of the difference of two accuracies near the cut on a val split of ``N`` images,
``sqrt(2 p (1 - p) / N)``. z = 0 is plain sh. Every rung's runs count, also when the rung cuts nobody (a search learns that only
after training it). Prints, per (dataset, rungs, eta, z), the epochs / full, the mean and
worst gap on the training seed, and the held-out regret − none's (``gpu_frontier.held_out_regret``).

    python bench/noise_cut.py bench/results/gpu_plan.json bench/results/*runs*.jsonl
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gpu_frontier as gf  # noqa: E402
import p2_frontier as p2  # noqa: E402

VAL_IMAGES = {"digits-lt": 250, "cifar10-lt": 5000, "cifar10-lt-e20": 5000}  # the val splits' sizes
RUNGS = [(1 / 6, 1 / 3), (1 / 6,), (1 / 4,)]


def cut_se(p_pct: float, n_val: int) -> float:
    """The standard error (pt) of the difference of two accuracies near ``p_pct`` on ``n_val`` images."""
    p = min(max(p_pct / 100, 0.01), 0.99)
    return 100 * math.sqrt(2 * p * (1 - p) / n_val)


def noisy_sh(T: p2.Table, rungs: list[int], eta: float, z: float, n_val: int) -> tuple[float, int] | None:
    """(epochs / full, the returned config), or None when a needed run is missing."""
    alive, consumed = list(range(T.n)), 0
    for k, b in enumerate(rungs):
        vals = {i: T.value(i, b) for i in alive}
        if any(v is None for v in vals.values()):
            return None
        ranked = sorted(alive, key=lambda i: (-vals[i], i))
        if k == len(rungs) - 1:
            return (consumed + len(alive) * b) / (T.n * T.E), ranked[0]
        k = math.ceil(len(alive) / eta)
        cut = vals[ranked[k - 1]]
        consumed += len(alive) * b
        alive = ranked[:k] + [i for i in ranked[k:] if z and vals[i] >= cut - z * cut_se(cut, n_val)]
    return None


def main() -> None:
    from ltsearch.search.request import rung_budgets

    spec = gf.json.loads(Path(sys.argv[1]).read_text())
    by_seed = gf.tables_by_seed(spec, gf.read_runs(sys.argv[2:]))
    print("| dataset | rungs | eta | z | epochs / full | mean gap | worst gap | held-out − none's | seeds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, n_val in VAL_IMAGES.items():
        tabs = {s: p2.Table(by_seed[(t, s)]) for (t, s) in sorted(by_seed) if t == name}
        tabs = {s: T for s, T in tabs.items() if None not in T.full()}
        if not tabs:
            continue
        E = next(iter(tabs.values())).E
        none = {s: max(range(T.n), key=lambda i: (T.full()[i], -i)) for s, T in tabs.items()}
        for fr in RUNGS:
            rungs = rung_budgets(E, list(fr))
            for eta in (2, 3, 4):  # 4: the sh default since session 14
                for z in (0, 1, 2):
                    res = {s: r for s, T in tabs.items() if (r := noisy_sh(T, rungs, eta, z, n_val))}
                    if not res:
                        continue
                    gaps = [max(tabs[s].full()) - tabs[s].full()[w] for s, (_, w) in res.items()]
                    held = gf.held_out_regret(tabs, {s: w for s, (_, w) in res.items()})
                    base = gf.held_out_regret(tabs, {s: none[s] for s in res})
                    loss = statistics.mean(held[s] - base[s] for s in held) if held else float("nan")
                    print(f"| {name} | {','.join(map(str, rungs))} | {eta} | {z} | "
                          f"{statistics.mean(r for r, _ in res.values()):.3f} | {statistics.mean(gaps):.2f} | "
                          f"{max(gaps):.2f} | {loss:+.2f} | {len(res)} |")


if __name__ == "__main__":
    main()

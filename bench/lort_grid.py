"""P3: LORT 7x7 stage-2 lr x wd grid, stage-1 reuse + feature cache vs naive (goal >= 20x).

    python bench/lort_grid.py [--dataset digits-lt] [--root R] [--model resnet8] [--epochs 8]
                              [--stage2-epochs 3] [--naive-cells 49]

Both sides run the same 49 trial configs (frozen batch-norm, the exact-cache setting) through
``run_trial`` in this process: *naive* trains stage 1 + stage 2 for every cell; *cached* sets
``cache_dir``, so stage 1 is trained once and every stage-2 epoch's features are computed once.
``--naive-cells K`` times only K naive cells and scales to 49 (said in the output) when the
full naive grid is too slow for the machine. Also checks that both give the same accuracies.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from ltsearch.data import DatasetSpec, load_dataset
from ltsearch.train import run_trial

LRS = np.logspace(-4, -1, 7)
WDS = [0.0, *np.logspace(-5, -2, 6)]


def config(args, lr: float, wd: float, cache_dir: str | None) -> dict:
    return {
        "dataset": {"name": args.dataset, "root": args.root, "imbalance_ratio": args.imbalance_ratio},
        "model": {"name": args.model},
        "method": {"name": "lort", "params": {"delta": 0.98, "stage2_epochs": args.stage2_epochs,
                                              "stage2_lr": float(lr), "stage2_wd": float(wd), "bn": "frozen",
                                              "stage2_batch_size": 64}},
        "optim": {"lr": 0.1, "weight_decay": 5e-3, "batch_size": 64},
        "schedule": {"name": "cosine", "warmup_epochs": 0, "milestones": []},
        "epochs": args.epochs, "device": args.device, "cache_dir": cache_dir,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="digits-lt")
    ap.add_argument("--root", default=None)
    ap.add_argument("--imbalance-ratio", type=float, default=10)
    ap.add_argument("--model", default="resnet8")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--stage2-epochs", type=int, default=3)
    ap.add_argument("--naive-cells", type=int, default=49)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    data = load_dataset(DatasetSpec(name=args.dataset, root=args.root, imbalance_ratio=args.imbalance_ratio))
    cells = [(lr, wd) for lr in LRS for wd in WDS]

    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        cached = [run_trial(config(args, lr, wd, cache), data=data)["val/acc"] for lr, wd in cells]
        t_cached = time.perf_counter() - t

    naive_cells = cells[:: max(1, len(cells) // args.naive_cells)][: args.naive_cells]
    t = time.perf_counter()
    naive = {c: run_trial(config(args, *c, None), data=data)["val/acc"] for c in naive_cells}
    t_naive = (time.perf_counter() - t) * len(cells) / len(naive_cells)

    agree = all(naive[c] == cached[cells.index(c)] for c in naive)
    scaled = "" if len(naive_cells) == len(cells) else f" (timed {len(naive_cells)} cells, scaled to 49)"
    print(f"{args.dataset}, {args.model}, stage 1 {args.epochs} epochs, stage 2 {args.stage2_epochs} epochs, "
          f"7x7 grid")
    print(f"naive  (stage 1 + stage 2 per cell): {t_naive:8.1f} s{scaled}")
    print(f"cached (stage 1 once + features once): {t_cached:8.1f} s")
    print(f"speed-up: {t_naive / t_cached:.1f}x; val accuracies identical on the naive cells: {agree}")
    best = int(np.argmax(cached))
    print(f"best cell: stage2_lr {cells[best][0]:.2g}, stage2_wd {cells[best][1]:.2g}, val/acc {cached[best]:.2f}")


if __name__ == "__main__":
    main()

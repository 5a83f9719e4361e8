"""How stable is P2's full-budget ranking? The top configs of ``p2_<dataset>.json`` retrained at the
full budget with other training seeds (same data split), best-epoch val/acc each.

    python bench/p2_seed_noise.py digits-lt [--top 3] [--seeds 1,2] [--configs 0,2,7]

Writes ``bench/results/p2_<dataset>_seeds.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import p2_frontier as p2  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--configs", default="", help="also these config indices, e.g. 0,2,7")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    table = json.loads((p2.RESULTS / f"p2_{args.dataset}.json").read_text())
    T = p2.Table(table)
    full = T.full()
    top = sorted(range(T.n), key=lambda i: -full[i])[:args.top]
    top += [int(c) for c in args.configs.split(",") if c and int(c) not in top]
    out_path = p2.RESULTS / f"p2_{args.dataset}_seeds.json"
    out = json.loads(out_path.read_text()) if out_path.is_file() else {}
    from ltsearch.search.engine import _load_data

    base = dict(table["configs"][0])
    data = _load_data(base)
    for i in top:
        row = out.setdefault(str(i), {"0": full[i]})
        for s in args.seeds.split(","):
            if s in row:
                continue
            cfg = {**table["configs"][i], "seed": int(s)}
            row[s] = p2.train_one(cfg, T.E, T.E, data)["best"]
            out_path.write_text(json.dumps(out, indent=1))
            print(f"config {i} seed {s}: {row[s]:.2f}", flush=True)
    for i, row in out.items():
        vals = list(row.values())
        print(f"config {i}: " + ", ".join(f"seed {k} {v:.2f}" for k, v in row.items())
              + f"; mean {sum(vals) / len(vals):.2f}")


if __name__ == "__main__":
    main()

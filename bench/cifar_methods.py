"""Issue 3 measurement: one run each of CE, KPS+GA, KPS w/o GA, BS, LWR and LORT on real CIFAR-10-LT.

    python bench/cifar_methods.py --root ~/.cache/ltsearch/cifar10-jpg [--model resnet8] [--epochs 30]

Budget this 2-core machine can run (ResNet-8, reduced epochs, batch 128); the papers use
ResNet-32 for 200 epochs, so absolute numbers are lower and orderings may differ. Prints a
markdown table (overall / many / medium / few, val and test) and writes bench/results/methods.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ltsearch.config import apply_overrides
from ltsearch.data import DatasetSpec, load_dataset
from ltsearch.metrics import format_group
from ltsearch.presets import load_preset
from ltsearch.train import run_trial


def configs(root: str, model: str, epochs: int, batch: int) -> dict[str, dict]:
    common = [f"dataset.root={root}", "dataset.name=cifar10-lt", "dataset.imbalance_ratio=100",
              f"model.name={model}", f"epochs={epochs}", f"optim.batch_size={batch}", "device=auto",
              "schedule.warmup_epochs=2"]
    kps = load_preset("kps/cifar10-lt")["config"]
    lwr = load_preset("lwr/cifar100-lt")["config"]
    lort = load_preset("lort/cifar100-lt")["config"]
    ce = apply_overrides(kps, ["method.name=ce", "method.params={}"])
    bs = apply_overrides(kps, ["method.name=bs", "method.params={}"])
    return {
        "CE": apply_overrides(ce, common),
        "KPS + GA": apply_overrides(kps, common),
        "KPS w/o GA": apply_overrides(kps, common + ["method.params.ga=off"]),
        "BS": apply_overrides(bs, common),
        "LWR": apply_overrides(lwr, common),
        "LORT": apply_overrides(lort, common + ["optim.lr=0.05", "schedule.warmup_epochs=0",
                                                 f"method.params.stage2_epochs={max(epochs // 3, 1)}",
                                                 "method.params.stage2_batch_size=128"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--model", default="resnet8")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", default="bench/results/methods.json")
    args = ap.parse_args()
    data = load_dataset(DatasetSpec(name="cifar10-lt", root=args.root, imbalance_ratio=100))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.is_file() else {}
    for name, cfg in configs(args.root, args.model, args.epochs, args.batch).items():
        if args.only and name not in args.only:
            continue
        t0 = time.time()
        r = run_trial(cfg, data=data, report=lambda e, m: print(name, e, {k: round(v, 3) for k, v in m.items()},
                                                               flush=True))
        results[name] = {k: v for k, v in r.items() if k != "per_class"} | {"seconds": round(time.time() - t0, 1),
                                                                            "model": args.model, "epochs": args.epochs}
        out.write_text(json.dumps(results, indent=2))
    cols = ["acc", "many", "medium", "few"]
    print("| method | " + " | ".join(f"val {c}" for c in cols) + " | " + " | ".join(f"test {c}" for c in cols)
          + " | time (s) |")
    print("|---" * 10 + "|")
    for name, r in results.items():
        cells = [format_group(r.get(f"{s}/{c}")) for s in ("val", "test") for c in cols]
        print(f"| {name} | " + " | ".join(cells) + f" | {r['seconds']} |")


if __name__ == "__main__":
    main()

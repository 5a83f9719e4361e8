"""GPU benches on real CIFAR-10-LT (IR 100): training throughput per pipeline, and trial packing.

    python bench/gpu.py throughput --root R [--models resnet8,resnet32] [--steps 40] [--rounds 3]
    python bench/gpu.py packing --root R [--trials 1,2,4,8] [--epochs 6]
    python bench/gpu.py precision [--models resnet8:32,resnet32:32,resnet50:224]

* ``throughput`` (P4 on a GPU): images/s of one training step loop (ResNet, batch 128, CE, SGD) fed by
  the papers' pipeline (torchvision transforms on PIL images in a DataLoader with ``--workers``
  workers, fp32) and by the trial's pipeline (device-resident uint8 tensors, whole-batch crop / flip,
  :mod:`ltsearch.data.loader`) in fp32, with bf16 autocast + ``channels_last``, and with
  ``compile: reduce-overhead`` (CUDA graphs). Rounds alternate between the variants; ratios are
  against the papers' pipeline measured in the same run.
* ``packing`` (the default ``--gpus-per-trial`` 0.25 of :mod:`ltsearch.search.resources`): K trial
  processes (the trial function itself, ResNet-8, Balanced Softmax, val every epoch) share one GPU,
  as K Ray trials with ``--gpus-per-trial 1/K`` do. Prints the aggregate training epochs per second
  and each trial's slow-down against K = 1.
* ``precision``: the step alone (a fixed batch already on the device, no loader) per model and input
  size in fp32 (cuDNN's default TF32 convolutions), bf16 autocast, bf16 + channels_last, and fp32 with
  ``torch.compile(mode="reduce-overhead")`` (CUDA graphs; ``--graphs`` models only): which speed-ups
  pay off for which model. Ratios are against fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import PILDataset, endless  # noqa: E402  (the P4 reference pipeline)

from ltsearch.data import DatasetSpec, load_dataset  # noqa: E402
from ltsearch.data.loader import make_loader  # noqa: E402
from ltsearch.models import build_model  # noqa: E402
from ltsearch.train.device import autocast, memory_format, select_device, step_begin  # noqa: E402


def load(root: str):
    return load_dataset(DatasetSpec(name="cifar10-lt", root=root, imbalance_ratio=100))


def trainer(model_name: str, device, amp: bool, channels_last: bool, compile_model: bool | str = False,
            num_classes: int = 10):
    """The trial's step (``_Run._train_epoch``) for CE: autocast around the forward, fp32 loss.
    ``compile_model``: True (the trial's ``compile: true``) or a ``torch.compile`` mode."""
    torch.manual_seed(0)
    fmt = memory_format(device, channels_last)
    model = build_model(model_name, num_classes).to(device=device, memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    mode = compile_model if isinstance(compile_model, str) else None
    net = torch.compile(model, mode=mode) if compile_model else model

    def step(x, y):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        step_begin()
        with autocast(device, amp):
            loss = F.cross_entropy(net(x.contiguous(memory_format=fmt)).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def timed(step, batches, n: int, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        loss = step(*next(batches))
    float(loss)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def compare(variants: dict, args, device, title: str, warmup: int) -> None:
    """Time ``{name: (step, batches)}`` in alternating rounds; print images/s and the ratio to the first."""
    for step, batches in variants.values():
        timed(step, batches, warmup, device)
    times: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for v, (step, batches) in variants.items():
            times[v].append(timed(step, batches, args.steps, device))
    ips = {v: args.steps * args.batch / statistics.median(t) for v, t in times.items()}
    base = ips[next(iter(variants))]
    print(f"\n{title}")
    for v, value in ips.items():
        print(f"  {v:58s} {value:9.0f} images/s  ratio {value / base:5.2f}x")


def throughput(args) -> None:
    device = select_device(args.device)
    data = load(args.root)
    ours = endless(make_loader(data.train, train=True, batch_size=args.batch, device=device, seed=0,
                               mean=data.mean, std=data.std, drop_last=True))
    ref = endless(torch.utils.data.DataLoader(PILDataset(data.train, data.mean, data.std), batch_size=args.batch,
                                              shuffle=True, num_workers=args.workers, persistent_workers=True,
                                              pin_memory=device.type == "cuda", drop_last=True))
    name = f"{device} ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else str(device)
    print(f"device {name}, torch {torch.__version__}, batch {args.batch}, {args.rounds} rounds of "
          f"{args.steps} steps (median), CIFAR-10-LT IR100 train split ({len(data.train.labels)} images)")
    for model_name in args.models.split(","):
        variants = {
            f"papers: PIL + DataLoader({args.workers} workers), fp32": (trainer(model_name, device, False, False), ref),
            "tensor loader, fp32 (trial default for CIFAR ResNets)": (trainer(model_name, device, False, False), ours),
            "tensor loader, bf16 + channels_last": (trainer(model_name, device, True, True), ours),
        }
        if args.compile:
            variants["tensor loader, fp32 + compile reduce-overhead"] = (
                trainer(model_name, device, False, False, "reduce-overhead"), ours)
        compare(variants, args, device, model_name, warmup=3)  # warm-up: workers, cuDNN autotune, compilation


def precision(args) -> None:
    device = select_device(args.device)
    graphs = set(args.graphs.split(",")) if args.graphs else set()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    print(f"precision: the step alone on {name}, torch {torch.__version__}, batch {args.batch}, "
          f"{args.rounds} rounds of {args.steps} steps (median)")
    for item in args.models.split(","):
        model_name, size = item.split(":")
        classes = 1000 if int(size) > 64 else 10
        g = torch.Generator().manual_seed(0)
        x = torch.randn(args.batch, 3, int(size), int(size), generator=g).to(device)
        y = torch.randint(0, classes, (args.batch,), generator=g).to(device)
        batches = endless([(x, y)])
        variants = {"fp32 (TF32 convolutions)": (trainer(model_name, device, False, False, num_classes=classes), batches),
                    "bf16 autocast": (trainer(model_name, device, True, False, num_classes=classes), batches),
                    "bf16 autocast + channels_last": (trainer(model_name, device, True, True, num_classes=classes),
                                                      batches)}
        if model_name in graphs:
            variants["fp32 + compile reduce-overhead (CUDA graphs)"] = (trainer(
                model_name, device, False, False, "reduce-overhead", num_classes=classes), batches)
        compare(variants, args, device, f"{model_name} at {size}x{size}, {classes} classes", warmup=5)
        del variants, batches
        if device.type == "cuda":
            torch.cuda.empty_cache()


def trial_config(root: str, epochs: int, device: str) -> dict:
    return {"dataset": {"name": "cifar10-lt", "imbalance_ratio": 100, "root": root},
            "model": {"name": "resnet8"}, "method": {"name": "bs", "params": {}},
            "optim": {"lr": 0.1, "weight_decay": 2e-4, "batch_size": 128},
            "schedule": {"name": "multistep", "warmup_epochs": 1, "milestones": [0.8, 0.9]},
            "epochs": epochs, "seed": 0, "device": device}


def packing_worker(args) -> None:
    """One trial, timed from after the data is loaded; prints one JSON line."""
    from ltsearch.train import run_trial

    data = load(args.root)
    cfg = trial_config(args.root, args.epochs, args.device)
    start = time.time()
    result = run_trial(cfg, data=data)
    print(json.dumps({"start": start, "end": time.time(), "val_acc": result["best/val/acc"]}))


def packing(args) -> None:
    load(args.root)  # decode once: the workers read the tensor cache
    n_train = len(load(args.root).train.labels)
    print(f"packing: ResNet-8 Balanced-Softmax trials of {args.epochs} epochs ({n_train} images each) on one "
          f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'CPU'}")
    alone = None
    for k in [int(v) for v in args.trials.split(",")]:
        cmd = [sys.executable, __file__, "packing-worker", "--root", args.root, "--epochs", str(args.epochs),
               "--device", args.device]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(k)]
        rows = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        if any(p.returncode for p in procs):
            raise SystemExit(f"a packing worker failed at K={k}")
        span = max(r["end"] for r in rows) - min(r["start"] for r in rows)
        per_trial = statistics.mean(r["end"] - r["start"] for r in rows)
        alone = alone or per_trial
        print(f"K={k}: {k * args.epochs / span:6.2f} trial-epochs/s ({k * args.epochs * n_train / span:8.0f} images/s), "
              f"each trial {per_trial:6.1f} s = {per_trial / alone:4.2f}x its time alone; "
              f"val acc {min(r['val_acc'] for r in rows):.2f}-{max(r['val_acc'] for r in rows):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("throughput", "packing", "packing-worker", "precision"):
        p = sub.add_parser(name)
        p.add_argument("--root", required=name != "precision",
                       help="CIFAR-10 image-folder tree (train/<class>/, test/<class>/)")
        p.add_argument("--device", default="auto")
        p.add_argument("--epochs", type=int, default=6, help="packing: epochs per trial")
        p.add_argument("--trials", default="1,2,4,8", help="packing: trials sharing the GPU, one run per K")
        p.add_argument("--models", default="resnet8:32,resnet32:32,resnet50:224" if name == "precision"
                       else "resnet8,resnet32", help="models, comma-separated (precision: model:input size)")
        p.add_argument("--graphs", default="resnet8,resnet32", help="precision: models also timed with CUDA graphs")
        p.add_argument("--steps", type=int, default=40, help="throughput: steps per round")
        p.add_argument("--rounds", type=int, default=3)
        p.add_argument("--batch", type=int, default=128)
        p.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
        p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True,
                       help="throughput: also time compile reduce-overhead")
    args = ap.parse_args()
    {"throughput": throughput, "packing": packing, "packing-worker": packing_worker,
     "precision": precision}[args.cmd](args)


if __name__ == "__main__":
    main()
